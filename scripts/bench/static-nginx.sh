# Sourced by the benchmarks: nginx serving one small JSON file on a free loopback port, and over
# TLS (a self-signed certificate for 127.0.0.1; h2 and http/1.1 by ALPN) on another.
#   start_static_nginx WORKERS [DIRECTIVES [TLS_DIRECTIVES]]   (uses $WORK; sets PORT, TLS_PORT, TLS_CA
#       and NGINX_PID; DIRECTIVES go into the plain server's location, TLS_DIRECTIVES into the TLS server)
start_static_nginx() {
    local workers=$1 directives=${2:-} tls_directives=${3:-}
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    TLS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    TLS_CA=$WORK/tls.pem
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$WORK/tls.key" -out "$TLS_CA" 2>/dev/null
    mkdir -p "$WORK/www"
    printf '{"product":{"id":1,"name":"Product 1","price":19.99},"cache_status":"HIT"}' >"$WORK/www/index.json"
    cat >"$WORK/nginx.conf" <<NGINX
worker_processes $workers;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
daemon off;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $WORK; proxy_temp_path $WORK; fastcgi_temp_path $WORK; uwsgi_temp_path $WORK; scgi_temp_path $WORK;
    server {
        listen 127.0.0.1:$PORT backlog=4096;
        root $WORK/www;
        location / { default_type application/json; $directives try_files /index.json =404; }
    }
    server {
        listen 127.0.0.1:$TLS_PORT ssl http2 backlog=4096;
        ssl_certificate $WORK/tls.pem;
        ssl_certificate_key $WORK/tls.key;
        $tls_directives
        root $WORK/www;
        location / { default_type application/json; try_files /index.json =404; }
    }
}
NGINX
    nginx -c "$WORK/nginx.conf" -p "$WORK" &
    NGINX_PID=$!
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && return; sleep 0.1; done
    echo "nginx did not start: $(cat "$WORK/error.log")" >&2
    exit 1
}
