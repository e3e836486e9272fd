#!/usr/bin/python3
"""A fleet signer in Python (standard json + cryptography), for the interop test of docs/mqtt.md's signing.

Reads one job as JSON on stdin, writes {"bytesHex", "signature", "publicKeyPem"} on stdout:
  {"kind": "config", "seedHex", "boxId", "version", "config", "ensureAscii"?}
  {"kind": "rpc", "seedHex", "boxId", "operation", "params", "timestamp", "nonce", "ensureAscii"?}
ensureAscii true reproduces the naive "keys sorted, no spaces" signer (json.dumps's default), whose bytes
differ from RFC 8785 as soon as a string is not ASCII.
"""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def canonical(value, ensure_ascii):
    # RFC 8785 for what the fleet sends (strings, integers, BMP names): sorted keys, no whitespace, UTF-8.
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=ensure_ascii)
    return text.encode("utf-8")


def main():
    job = json.load(sys.stdin)
    ensure_ascii = bool(job.get("ensureAscii", False))
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(job["seedHex"]))
    if job["kind"] == "config":
        data = canonical(
            {
                "boxId": job["boxId"],
                "config": job["config"],
                "type": "boxagent-config-v1",
                "version": job["version"],
            },
            ensure_ascii,
        )
    else:
        params_hash = hashlib.sha256(canonical(job["params"], ensure_ascii)).hexdigest()
        lines = [
            "boxagent-rpc-v1",
            job["operation"],
            job["boxId"],
            str(job["timestamp"]),
            job["nonce"],
            params_hash,
        ]
        data = "\n".join(lines).encode("utf-8")
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    out = {
        "bytesHex": data.hex(),
        "signature": base64.b64encode(key.sign(data)).decode("ascii"),
        "publicKeyPem": pem.decode("ascii"),
    }
    json.dump(out, sys.stdout)


main()
