"""First real-name photo after a server starts: cold workers (OCR models load on the first photo)
against workers warmed up by the gunicorn hook (config/gunicorn.py), measured in the same run.

    .venv/bin/python bench/ocr_first_photo.py [--photos 3] [--no-docs]

What it does (about a minute; PostgreSQL bench database ``<prefix>_ocr``):

1. migrates the database and creates one public user per photo with a bearer token (in a
   subprocess with production settings), and a synthetic ID card photo (JPEG, 856 × 540);
2. for each mode — ``cold``: gunicorn without the config file; ``warm``: with
   ``--config config/gunicorn.py`` — starts gunicorn (1 worker × 2 threads), waits until it answers
   a cheap API call (the worker is up; a warm worker has finished its warm-up by then, because
   gunicorn runs ``post_worker_init`` before the worker accepts), then POSTs the photo to
   ``/api/v1/auth/real-name/photo`` ``--photos`` times, one after another, each as a new user;
3. prints the time to ready, the first photo and the later ones, and the first photo as a ratio
   of the later ones (1.0× = first use as fast as later use); rewrites its docs section.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import _common

SETTINGS = "yz_ocr_bench_settings"

SETUP_SCRIPT = r"""
import json, sys
import django
django.setup()
from yunzheng.accounts.services import user_token_create
from yunzheng.accounts.tests.factories import id_card_image, login
count, image_path = int(sys.argv[1]), sys.argv[2]
tokens = []
for n in range(count):
    user = login(f"1390000{n:04d}", client_ip=f"10.0.{n // 200}.{n % 200 + 1}")
    tokens.append(user_token_create(user=user, client_name="bench").token)
with open(image_path, "wb") as f:
    f.write(id_card_image(name="张三丰", image_format="JPEG"))
print(json.dumps(tokens))
"""


def setup(env: dict[str, str], count: int, image_path: Path) -> list[str]:
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", SETUP_SCRIPT, str(count), str(image_path)],
        cwd=_common.REPO,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"set-up failed:\n{out.stderr[-3000:]}")
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def post_photo(port: int, token: str, image: bytes) -> tuple[float, int, dict[str, object]]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="card.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    connection.request(
        "POST",
        "/api/v1/auth/real-name/photo",
        body=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": f"Bearer {token}",
        },
    )
    response = connection.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, response.status, json.loads(payload or b"{}")


def wait_until_answering(port: int, started: float) -> float:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            connection.request("GET", "/api/v1/auth/policies")
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the server never answered")


def run_mode(mode: str, env: dict[str, str], tokens: list[str], image: bytes) -> dict[str, object]:
    port = _common.free_port()
    started = time.perf_counter()
    server = _common.start_gunicorn(
        env, port, workers=1, threads=2, config="config/gunicorn.py" if mode == "warm" else None
    )
    try:
        ready = wait_until_answering(port, started)
        workers = _common.child_pids(server.pid)
        photos, cpu = [], []
        for token in tokens:
            cpu_before = _common.cpu_seconds(workers)
            elapsed, status, answer = post_photo(port, token, image)
            cpu.append(_common.cpu_seconds(workers) - cpu_before)
            if status != 200:
                raise RuntimeError(f"photo upload answered {status}: {answer}")
            prefill = answer.get("prefill") or {}
            assert isinstance(prefill, dict)
            photos.append(elapsed)
        read = prefill.get("name") == "张**" or bool(prefill.get("name"))
    finally:
        _common.stop_server(server)
    later = statistics.median(photos[1:]) if len(photos) > 1 else float("nan")
    later_cpu = statistics.median(cpu[1:]) if len(cpu) > 1 else float("nan")
    print(
        f"{mode:5} ready after {ready:5.2f} s   first photo {photos[0]:5.2f} s ({cpu[0]:.2f} s CPU)   "
        f"later {later:5.2f} s ({later_cpu:.2f} s CPU)   first/later {_common.ratio(photos[0], later)}   "
        f"OCR read the card: {read}"
    )
    return {
        "mode": mode,
        "ready": ready,
        "first": photos[0],
        "later": later,
        "first_cpu": cpu[0],
        "later_cpu": later_cpu,
        "read": read,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--photos", type=int, default=3, help="photos per mode (one user each)")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)

    database = _common.recreate_database(_common.database_name("ocr"))
    with tempfile.TemporaryDirectory() as directory:
        settings_dir = Path(directory)
        _common.write_settings(
            settings_dir,
            SETTINGS,
            ["IDENTITY_VERIFICATION_BACKEND = 'yunzheng.accounts.identity.TrustedOcrBackend'"],
        )
        env = _common.bench_env(
            database,
            settings_dir,
            SETTINGS,
            YUNZHENG_VAR_DIR=str(settings_dir / "var"),
            SMS_BACKEND="yunzheng.core.sms.FileOutboxSmsBackend",  # the set-up reads the login codes
        )
        _common.migrate(env)
        image_path = settings_dir / "card.jpg"
        tokens = setup(env, args.photos * 2, image_path)
        image = image_path.read_bytes()
        results = [
            run_mode("cold", env, tokens[: args.photos], image),
            run_mode("warm", env, tokens[args.photos :], image),
        ]
    if not args.no_docs:
        write_docs(results, args.photos)
    return 0


def write_docs(results: list[dict[str, object]], photos: int) -> None:
    rows = [
        (
            r["mode"],
            f"{r['ready']:.2f} s",
            f"{r['first']:.2f} s",
            f"{r['first_cpu']:.2f} s",
            f"{r['later']:.2f} s",
            f"{r['later_cpu']:.2f} s",
            _common.ratio(float(r["first"]), float(r["later"])),  # type: ignore[arg-type]
        )
        for r in results
    ]
    cold, warm = results
    section = f"""## Real-name photo: the first one after start-up

`bench/ocr_first_photo.py` ({time.strftime("%Y-%m-%d")}; {_common.machine_note()}). gunicorn 1 worker × 2
threads on PostgreSQL; POST `/api/v1/auth/real-name/photo` with a synthetic 856 × 540 JPEG ID card,
{photos} photos per mode one after another, timed at the client. "cold" starts gunicorn without
`config/gunicorn.py` (the models load on the first photo, as before); "warm" with it (the worker
loads and runs the models before it accepts requests, so "ready" includes that).

{
        _common.table(
            (
                "mode",
                "ready after start",
                "first photo",
                "its server CPU",
                "later photos (median)",
                "their server CPU",
                "first / later",
            ),
            rows,
        )
    }

"server CPU" is the CPU time the gunicorn worker spent on the request (from /proc), which a busy
machine does not inflate; wall-clock times include waiting for a core. The first photo after
start-up takes {warm["first"]:.2f} s ({warm["first_cpu"]:.2f} s CPU) with the warm-up against
{cold["first"]:.2f} s ({cold["first_cpu"]:.2f} s CPU) without it. OCR reads a photo on one core with
text detection at 736 px (`accounts/ocr.py`), about 0.7 s of CPU.
"""
    _common.write_docs_section("ocr_first_photo.py", section)


if __name__ == "__main__":
    sys.exit(main())
