#!/usr/bin/env python3
"""A cache-aside app of the kind the ElastiCache labs build: Flask, redis-py and a SQL database.

GET /product/<id> looks in Redis first; on a miss it reads PostgreSQL and stores the row for
--ttl seconds. The answer says what happened in its JSON body, as the labs' apps do, and carries
no cache header:

    {"product": {...}, "cache_status": "HIT" | "MISS", "response_time_ms": 0.42}

GET /stats is the labs' view of the hit ratio: Redis's own keyspace_hits and keyspace_misses.
The load generator's tests run it as a target none of their own code wrote.

    labs-app.py --port 5001 --redis redis://127.0.0.1:6379/0 --database postgresql://…
"""
import argparse
import json
import time

import psycopg2.pool
import redis
from flask import Flask, jsonify


def create_app(redis_url, database_url, ttl):
    app = Flask(__name__)
    cache = redis.Redis.from_url(redis_url)
    pool = psycopg2.pool.ThreadedConnectionPool(1, 8, database_url)

    def elapsed_ms(start):
        return round((time.perf_counter() - start) * 1000, 2)

    @app.get("/product/<int:product_id>")
    def product(product_id):
        start = time.perf_counter()
        key = f"labs:product:{product_id}"
        cached = cache.get(key)
        if cached is not None:
            return jsonify(product=json.loads(cached), cache_status="HIT", response_time_ms=elapsed_ms(start))
        connection = pool.getconn()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT id, name, price FROM products WHERE id = %s", (product_id,))
                row = cursor.fetchone()
        finally:
            pool.putconn(connection)
        if row is None:
            return jsonify(error=f"product {product_id} not found"), 404
        found = {"id": row[0], "name": row[1], "price": float(row[2])}
        cache.setex(key, ttl, json.dumps(found))
        return jsonify(product=found, cache_status="MISS", response_time_ms=elapsed_ms(start))

    @app.get("/stats")
    def stats():
        info = cache.info("stats")
        hits, misses = info["keyspace_hits"], info["keyspace_misses"]
        ratio = hits / (hits + misses) * 100 if hits + misses else 0
        return jsonify(keyspace_hits=hits, keyspace_misses=misses, hit_ratio=f"{ratio:.2f}%")

    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--ttl", type=int, default=300)
    arguments = parser.parse_args()
    app = create_app(arguments.redis, arguments.database, arguments.ttl)
    app.run(host="127.0.0.1", port=arguments.port, threaded=True)


if __name__ == "__main__":
    main()
