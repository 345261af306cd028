#!/usr/bin/env python3
"""Re-signs the sample events after you edit one: `python3 events/sign.py`.

Recomputes, with the TEST-ONLY secrets below (see events/README.md):
  - x-twitter-webhooks-signature of POST /twitter/webhook events:
      "sha256=" + base64(HMAC-SHA256(X_CONSUMER_SECRET, raw body bytes))
  - x-twilio-signature of POST /twilio/* events:
      base64(HMAC-SHA1(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL + rawPath [+ "?" + rawQueryString]
                       + key1 + value1 + key2 + value2 ...))   (form parameters sorted by key)
  - x-signature-ed25519 of POST /discord/interactions events:
      hex(Ed25519 signature, with the TEST-ONLY seed, of x-signature-timestamp + raw body bytes)
    (the timestamp header is kept as it is, or set to now with `--now`: discord-interactions
    refuses interactions signed more than 5 minutes away from now, so re-sign with
    `python3 events/sign.py --now` right before invoking them, and `git checkout events/`
    after; the public key to configure is DISCORD_PUBLIC_KEY)
  - content-length, and md5OfBody of SQS records.
Bodies with isBase64Encoded are decoded first, as the Lambda runtime does.
"""

import base64
import hashlib
import hmac
import json
import pathlib
import sys
import time
import urllib.parse

X_CONSUMER_SECRET = "TEST_ONLY_consumer_secret_0123456789abcdefghijklmnopqrstuv"
TWILIO_AUTH_TOKEN = "TEST_ONLY_twilio_auth_token_0123456789"
PUBLIC_BASE_URL = "https://abc123.execute-api.us-east-1.amazonaws.com"
# TEST-ONLY Ed25519 signing seed of fixtures/discord/signature-test-vector.json, and its public key
# (what DISCORD_PUBLIC_KEY must be for these events). Discord never gives out a real app's private key.
DISCORD_SEED_HEX = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
DISCORD_PUBLIC_KEY = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"


# Ed25519 (RFC 8032, section 6 reference code), so that this script needs nothing beyond Python.
# Slow and not constant-time: fine for test keys, never for a real one.
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _point_add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    a_ = (y1 - x1) * (y2 - x2) % _P
    b_ = (y1 + x1) * (y2 + x2) % _P
    c = 2 * t1 * t2 * _D % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = b_ - a_, d - c, d + c, b_ + a_
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _point_mul(s, point):
    result = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            result = _point_add(result, point)
        point = _point_add(point, point)
        s >>= 1
    return result


def _recover_x(y, sign):
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if x & 1 != sign:
        x = _P - x
    return x


_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0)
_G = (_GX, _GY, 1, _GX * _GY % _P)


def _encode_point(point):
    x, y, z, _ = point
    zinv = pow(z, _P - 2, _P)
    x, y = x * zinv % _P, y * zinv % _P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _sha512_int(data):
    return int.from_bytes(hashlib.sha512(data).digest(), "little")


def _secret_expand(seed):
    digest = hashlib.sha512(seed).digest()
    a = int.from_bytes(digest[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, digest[32:]


def ed25519_public_key(seed):
    a, _ = _secret_expand(seed)
    return _encode_point(_point_mul(a, _G))


def ed25519_sign(seed, message):
    a, prefix = _secret_expand(seed)
    public = _encode_point(_point_mul(a, _G))
    r = _sha512_int(prefix + message) % _L
    big_r = _encode_point(_point_mul(r, _G))
    h = _sha512_int(big_r + public + message) % _L
    s = (r + h * a) % _L
    return big_r + int.to_bytes(s, 32, "little")


def raw_body(event):
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def sign(event, now=False):
    if "Records" in event:
        for record in event["Records"]:
            record["md5OfBody"] = hashlib.md5(record["body"].encode()).hexdigest()
        return
    body = raw_body(event)
    headers = event["headers"]
    if "content-length" in headers:
        headers["content-length"] = str(len(body))
    path = event["rawPath"]
    if event["requestContext"]["http"]["method"] != "POST":
        return
    if path == "/twitter/webhook":
        mac = hmac.new(X_CONSUMER_SECRET.encode(), body, hashlib.sha256)
        headers["x-twitter-webhooks-signature"] = "sha256=" + base64.b64encode(mac.digest()).decode()
    elif path.startswith("/twilio/"):
        url = PUBLIC_BASE_URL + path
        if event.get("rawQueryString"):
            url += "?" + event["rawQueryString"]
        params = sorted(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        data = url + "".join(k + v for k, v in params)
        mac = hmac.new(TWILIO_AUTH_TOKEN.encode(), data.encode(), hashlib.sha1)
        headers["x-twilio-signature"] = base64.b64encode(mac.digest()).decode()
    elif path == "/discord/interactions":
        seed = bytes.fromhex(DISCORD_SEED_HEX)
        if now:
            headers["x-signature-timestamp"] = str(int(time.time()))
        timestamp = headers["x-signature-timestamp"]
        headers["x-signature-ed25519"] = ed25519_sign(seed, timestamp.encode() + body).hex()


def main():
    seed = bytes.fromhex(DISCORD_SEED_HEX)
    assert ed25519_public_key(seed).hex() == DISCORD_PUBLIC_KEY, "DISCORD_SEED_HEX and DISCORD_PUBLIC_KEY disagree"
    for path in sorted(pathlib.Path(__file__).parent.glob("*.json")):
        event = json.loads(path.read_text())
        sign(event, now="--now" in sys.argv[1:])
        path.write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n")
        print("signed", path.name)


if __name__ == "__main__":
    main()
