# Sourced by the benchmarks: nginx serving one small JSON file on a free loopback port.
#   start_static_nginx WORKERS   (uses $WORK; sets PORT and NGINX_PID)
start_static_nginx() {
    local workers=$1
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
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
