#!/usr/bin/env python3
"""Re-signs the sample events after you edit one: `python3 events/sign.py`.

Recomputes, with the TEST-ONLY secrets below (see events/README.md):
  - x-twitter-webhooks-signature of POST /twitter/webhook events:
      "sha256=" + base64(HMAC-SHA256(X_CONSUMER_SECRET, raw body bytes))
  - x-twilio-signature of POST /twilio/* events:
      base64(HMAC-SHA1(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL + rawPath [+ "?" + rawQueryString]
                       + key1 + value1 + key2 + value2 ...))   (form parameters sorted by key)
  - content-length, and md5OfBody of SQS records.
Bodies with isBase64Encoded are decoded first, as the Lambda runtime does.
"""

import base64
import hashlib
import hmac
import json
import pathlib
import urllib.parse

X_CONSUMER_SECRET = "TEST_ONLY_consumer_secret_0123456789abcdefghijklmnopqrstuv"
TWILIO_AUTH_TOKEN = "TEST_ONLY_twilio_auth_token_0123456789"
PUBLIC_BASE_URL = "https://abc123.execute-api.us-east-1.amazonaws.com"


def raw_body(event):
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def sign(event):
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


def main():
    for path in sorted(pathlib.Path(__file__).parent.glob("*.json")):
        event = json.loads(path.read_text())
        sign(event)
        path.write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n")
        print("signed", path.name)


if __name__ == "__main__":
    main()
