"""Exit 0 if this container's web server answers GET /healthz with 200, else 1.

The health check of the Docker image and of docker-compose.yml's web service. It runs
every few seconds, so it uses only the standard library and imports no Django. It
sends a Host header that ALLOWED_HOSTS accepts and says the request came over https,
so production's HTTPS redirect does not turn the answer into a 301. It prints the
reasons /healthz gives, which `docker inspect` then shows.
"""

import http.client
import json
import os
import sys


def main() -> int:
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost").split(",") if h.strip()]
    host = next((h.lstrip(".") for h in hosts if "*" not in h), "localhost")
    port = int(os.environ.get("EARSHOT_HEALTHCHECK_PORT", "8000"))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=8)
    try:
        conn.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        body = response.read()
    except OSError as exc:
        print(f"GET /healthz: {exc}")
        return 1
    finally:
        conn.close()
    try:
        reasons = json.loads(body).get("reasons") or []
    except (ValueError, AttributeError):
        reasons = []
    print(f"GET /healthz {response.status}" + (f": {'; '.join(reasons)}" if reasons else ""))
    return 0 if response.status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
