"""A real nginx (Debian's package) in front of the app with the repository's own site configuration
(deploy/nginx/), for tests/test_static_pages.py and bench/static_pages.py.

The site files are used as they are, with only what deploy/nginx/survey.conf marks SET filled in
(the app server, the port, GENERATED_DIR), the paths of its included files, and the log written
to this run's folder. ``plain`` adds a second server that serves one folder as plain files: the
yardstick of the bench (nginx serving the same bytes with nothing in between).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

MAIN = """{user}worker_processes {workers};
pid {work}/nginx.pid;
error_log {work}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/survey.conf;
{plain}}}
"""
PLAIN = """    server {{
        listen 127.0.0.1:{port};
        root {folder};
        access_log off;
        location / {{ try_files $uri =404; }}
    }}
"""


def site_config(app_port: int, port: int, generated_dir: str | Path, work: Path) -> str:
    """deploy/nginx/survey.conf with what it marks SET filled in, for this run."""
    text = (SITE / "survey.conf").read_text("utf-8")
    replacements = {
        "server 127.0.0.1:8000;  # SET": f"server 127.0.0.1:{app_port};  # SET",
        "listen 80;  # SET": f"listen 127.0.0.1:{port};  # SET",
        "root /srv/survey/generated;  # SET": f"root {Path(generated_dir).resolve()};  # SET",
        "/var/log/nginx/survey.log": str(work / "access.log"),
        "/etc/nginx/survey_page_headers": str(SITE / "survey_page_headers"),
        "/etc/nginx/proxy_params_survey": str(SITE / "proxy_params_survey"),
    }
    for old, new in replacements.items():
        if old not in text:
            raise ValueError(f"deploy/nginx/survey.conf no longer has {old!r}; update bench/nginx_front.py")
        text = text.replace(old, new)
    return text


def start(app_port: int, port: int, generated_dir, work: Path, plain: tuple[int, Path] | None = None,
          workers: int = 1) -> subprocess.Popen:
    """nginx on 127.0.0.1:``port`` in front of the app on ``app_port``; ready when returned."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "survey.conf").write_text(site_config(app_port, port, generated_dir, work), "utf-8")
    extra = PLAIN.format(port=plain[0], folder=Path(plain[1]).resolve()) if plain else ""
    # Started as root, nginx's workers would run as www-data, which may not read this run's
    # folders (pytest's are private to their user): they run as the user who started it.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (work / "nginx.conf").write_text(MAIN.format(user=user, workers=workers, work=work, plain=extra), "utf-8")
    check = subprocess.run([NGINX, "-t", "-c", str(work / "nginx.conf")], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"nginx refused the configuration:\n{check.stderr}")
    process = subprocess.Popen([NGINX, "-c", str(work / "nginx.conf")], stdout=subprocess.DEVNULL,
                               stderr=open(work / "stderr.log", "wb"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/results/", timeout=1)
            return process
        except urllib.error.HTTPError:
            return process  # nginx answered (the app behind it may say 404)
        except OSError:
            if process.poll() is not None:
                raise RuntimeError((work / "error.log").read_text() if (work / "error.log").exists() else "nginx stopped")
            time.sleep(0.05)
    stop(process)
    raise RuntimeError("nginx did not answer within 10 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
