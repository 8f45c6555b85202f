// Linux's event-loop calls, which Glibc's Swift module leaves out: the load generator's
// socket loop (LoadGen's SocketTransport) waits on epoll, a timerfd and an eventfd.
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/eventfd.h>
#include <netinet/tcp.h>
