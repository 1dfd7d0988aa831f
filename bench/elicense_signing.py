"""Benchmark of SM2 (C vs pure Python, same run) and of electronic-licence signing and verification.

    .venv/bin/python bench/elicense_signing.py [--count 500] [--primitive-count 200] [--no-docs]

What it does (no database; about a minute):

0. SM2 alone, before and after in the same run: signatures and verifications per second of one
   core (CPU time of this process; wall-clock too) with the pure-Python gmssl the platform used
   before (signing with the known public key; the offline verifier's fallback) and with the C path
   (`yunzheng.core.crypto` over gmssl_pyx / GmSSL), and the ratio;

1. builds realistic QR claims for three licence types (an electronic traffic pass with three road
   sections, a practitioner qualification certificate, a vehicle transport certificate), each with
   its own licence number;
2. encodes and signs ``--count`` of them with SM2 (`yunzheng.core.crypto.sm2_sign`, the signer the
   platform uses), then verifies each with the offline verifier (`yunzheng.elicense.verifier`,
   the same code path as the CLI and the online check) against an in-memory trust list;
3. reports signatures/s and verifications/s (median of per-operation times and overall rate),
   payload size (signed bytes, QR text characters) and the QR version at error level M — bare and
   behind a verification link — next to what base64 (QR byte mode) would need;
4. prints a table and rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import platform
import secrets
import statistics
import sys
import time

import _common

LINK_BASE = "https://yz.example.gov.cn"


def claims_for(kind: str, serial: int, kid: str) -> object:
    from yunzheng.elicense.qr_payload import Claims

    common = {"v": 1, "kid": kid, "ver": 3, "nbf": 20260101, "exp": 20261231, "iat": 20260315}
    if kind == "traffic_pass":
        return Claims(
            lid=f"12-TP-2026-{serial:06d}",
            typ="TP",
            iss="120000",
            ess={
                "n": "张*",
                "p": "津A12345",
                "pt": "货车夜间通行证",
                "s": ["外环线（津静公路—津塘公路）", "快速路中环线", "津滨高速"],
                "t": ["22:00-06:00"],
            },
            **common,
        )
    if kind == "practitioner":
        return Claims(
            lid=f"12-QC-2026-{serial:06d}",
            typ="QC",
            iss="120100",
            ess={"n": "李**", "no": "120101198506121234", "c": ["网络预约出租汽车驾驶员"]},
            **common,
        )
    return Claims(
        lid=f"12-VT-2026-{serial:06d}",
        typ="VT",
        iss="120100",
        ess={
            "n": "天津顺达物流有限公司",
            "no": "120101000001",
            "p": "津A12345",
            "pc": "黄色",
            "sc": "道路普通货物运输",
        },
        **common,
    )


def sm2_before_and_after(count: int) -> list[tuple[str, _common.Rate, _common.Rate]]:
    """(operation, pure-Python rate, C rate) for SM2 sign and verify over a 300-byte message."""
    from gmssl import sm2

    from yunzheng.core.crypto import generate_sm2_keypair, sm2_sign, sm2_verify
    from yunzheng.elicense import verifier

    pair = generate_sm2_keypair()
    data = secrets.token_bytes(300)
    pure = sm2.CryptSM2(private_key=pair.private_key_hex, public_key="")
    pure.public_key = pair.public_key_hex

    def pure_sign() -> None:  # what core.crypto.sm2_sign did before: gmssl with the known public key
        pure.sign_with_sm3(data, f"{secrets.randbelow(2**255) + 1:064x}")

    signature = sm2_sign(pair.private_key_hex, data, public_key_hex=pair.public_key_hex)
    assert verifier.sm2_verify_pure_python(pair.public_key_hex, data, signature)
    assert sm2_verify(pair.public_key_hex, data, signature)
    rows = [
        (
            "SM2 sign (SM3withSM2, 300 B)",
            _common.measure(pure_sign, count),
            _common.measure(
                lambda: sm2_sign(pair.private_key_hex, data, public_key_hex=pair.public_key_hex), count * 10
            ),
        ),
        (
            "SM2 verify",
            _common.measure(
                lambda: verifier.sm2_verify_pure_python(pair.public_key_hex, data, signature), count
            ),
            _common.measure(lambda: sm2_verify(pair.public_key_hex, data, signature), count * 10),
        ),
    ]
    for name, before, after in rows:
        print(
            f"{name:30} pure Python {before.per_cpu_s:7.0f}/s CPU ({before.per_s:5.0f}/s wall)   "
            f"C {after.per_cpu_s:7.0f}/s CPU ({after.per_s:6.0f}/s wall)   "
            f"{_common.ratio(after.per_cpu_s, before.per_cpu_s)}"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--primitive-count", type=int, default=200, help="pure-Python SM2 operations")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

    import segno

    from yunzheng.core.crypto import generate_sm2_keypair, sm2_sign, sm3_hex
    from yunzheng.elicense import qr_payload, verifier

    primitives = sm2_before_and_after(args.primitive_count)
    pair = generate_sm2_keypair()
    kid = f"120000-{sm3_hex(bytes.fromhex(pair.public_key_hex))[:8]}"
    now = dt.datetime.now(dt.UTC)
    key = verifier.TrustedKey(
        kid=kid,
        province="120000",
        public_key_hex=pair.public_key_hex,
        valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        valid_until=dt.datetime(2026, 12, 31, tzinfo=dt.UTC),
        verify_until=now + dt.timedelta(days=365),
        status="active",
    )
    trust_list = verifier.TrustList(
        issued_at=now, next_update=now + dt.timedelta(hours=1), signer_kid="", keys={kid: key}
    )
    verify_at = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)

    kinds = ["traffic_pass", "practitioner", "vehicle"]
    sign_times: list[float] = []
    texts: list[tuple[str, str]] = []
    started = time.perf_counter()
    for serial in range(args.count):
        kind = kinds[serial % len(kinds)]
        claims = claims_for(kind, serial, kid)
        t0 = time.perf_counter()
        body = qr_payload.encode_claims(claims)  # type: ignore[arg-type]
        text = qr_payload.assemble(
            body, sm2_sign(pair.private_key_hex, body, public_key_hex=pair.public_key_hex)
        )
        sign_times.append(time.perf_counter() - t0)
        texts.append((kind, text))
    sign_total = time.perf_counter() - started

    verify_times: list[float] = []
    started = time.perf_counter()
    for _kind, text in texts:
        t0 = time.perf_counter()
        verdict = verifier.verify_payload(text, trust_list=trust_list, now=verify_at)
        verify_times.append(time.perf_counter() - t0)
        if not verdict.is_valid:
            raise SystemExit(f"verification failed: {verdict}")
    verify_total = time.perf_counter() - started

    sizes = []
    for kind in kinds:
        text = next(t for k, t in texts if k == kind)
        body, signature = qr_payload.split(text)
        link = qr_payload.verification_link(LINK_BASE, text)
        as_base64 = "YZ1:" + base64.urlsafe_b64encode(body + signature).decode().rstrip("=")
        sizes.append(
            {
                "kind": kind,
                "signed_bytes": len(body),
                "total_bytes": len(body) + len(signature),
                "chars": len(text),
                "qr": segno.make(text, error="m", micro=False).version,
                "qr_link": segno.make(link, error="m", micro=False).version,
                "qr_base64": segno.make(as_base64, error="m", micro=False).version,
            }
        )

    sign_rate, verify_rate = args.count / sign_total, args.count / verify_total
    sign_ms, verify_ms = statistics.median(sign_times) * 1000, statistics.median(verify_times) * 1000
    print(f"{args.count} payloads on {platform.python_implementation()} {platform.python_version()}")
    print(f"sign:   {sign_rate:7.1f} /s   median {sign_ms:5.1f} ms  (encode + SM2 sign)")
    print(f"verify: {verify_rate:7.1f} /s   median {verify_ms:5.1f} ms  (parse + key checks + SM2 verify)")
    header = ("licence type", "signed B", "+sig B", "chars", "QR v", "QR v link", "base64 v")
    widths = (15, 9, 7, 6, 5, 9, 9)
    print(" ".join(f"{name:{'<' if i == 0 else '>'}{widths[i]}}" for i, name in enumerate(header)))
    for row in sizes:
        print(
            f"{row['kind']:15} {row['signed_bytes']:9} {row['total_bytes']:7} {row['chars']:6} {row['qr']:5} "
            f"{row['qr_link']:9} {row['qr_base64']:9}"
        )

    if not args.no_docs:
        write_docs(args.count, primitives, sign_rate, sign_ms, verify_rate, verify_ms, sizes)
    return 0


def write_docs(
    count: int,
    primitives: list[tuple[str, _common.Rate, _common.Rate]],
    sign_rate: float,
    sign_ms: float,
    verify_rate: float,
    verify_ms: float,
    sizes: list[dict[str, object]],
) -> None:
    sm2_rows = _common.table(
        ("operation", "pure Python (gmssl), CPU", "C (gmssl_pyx / GmSSL), CPU", "C, wall-clock", "ratio"),
        (
            (
                name,
                f"{b.per_cpu_s:.0f} /s",
                f"{a.per_cpu_s:.0f} /s",
                f"{a.per_s:.0f} /s",
                _common.ratio(a.per_cpu_s, b.per_cpu_s),
            )
            for name, b, a in primitives
        ),
    )
    rows = "\n".join(
        f"| {r['kind']} | {r['signed_bytes']} | {r['total_bytes']} | {r['chars']} "
        f"| {r['qr']} | {r['qr_link']} | {r['qr_base64']} |"
        for r in sizes
    )
    section = f"""## Electronic licences: SM2 in C, signing and offline verification

`bench/elicense_signing.py` ({dt.date.today():%Y-%m-%d}; {_common.machine_note()}).

SM2 on one core, before (pure-Python gmssl) and after (C) in the same run; "CPU" is operations per
second of this process's CPU time, the per-core rate that a busy machine does not distort:

{sm2_rows}

Whole licences ({count} payloads; encode claims + SM2 sign; parse + trust-list checks + SM2 verify):

| operation | rate (wall-clock) | median |
| --- | --- | --- |
| sign | {sign_rate:.0f} /s | {sign_ms:.2f} ms |
| verify offline | {verify_rate:.0f} /s | {verify_ms:.2f} ms |

Payload size and QR version (error level M; "link" = `HTTPS://YZ.EXAMPLE.GOV.CN/V/YZ1:…`; base64 is
what the same bytes would need in QR byte mode instead of base32 in alphanumeric mode):

| licence type | signed bytes | with signature | QR text chars | QR version | with link | base64 instead |
| --- | --- | --- | --- | --- | --- | --- |
{rows}

Re-signing ten million licences after a key rotation: at the C signing rate above, one core needs
about {10_000_000 / primitives[0][2].per_cpu_s / 3600:.1f} hours (pure Python:
{10_000_000 / primitives[0][1].per_cpu_s / 3600:.0f} hours). See docs/adr/0006-national-cryptography-in-c.md.
"""
    _common.write_docs_section("elicense_signing.py", section)


if __name__ == "__main__":
    sys.exit(main())
