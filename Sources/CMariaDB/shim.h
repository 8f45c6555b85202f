// libmariadb (Debian's libmariadb-dev): the MySQL-protocol C client, for MySQL 5.7/8.0 and MariaDB.
#include <mysql.h>
#include <errmsg.h>
