"""Signs requests with botocore's S3SigV4Auth (AWS Signature Version 4 as the AWS SDK for Python does it), for
comparison with Cairn's SignatureV4 (Tests/CairnObjectStoreTests).

Reads a JSON array on stdin; each element: {"method", "url" (percent-encoded path and query), "headers": [[name,
value], …], "body_hex", "time" (Unix seconds), "access_key", "secret_key", "token" (or null), "region", "key" (an
object key)}. Prints a JSON array: for each, {"authorization": the Authorization header, "encoded_key":
botocore.utils.percent_encode(key, safe="/~"), how botocore puts a key in a URL path}.

S3SigV4Auth, not the generic SigV4Auth: for S3 the path is signed as sent (SigV4Auth would normalize and encode it a
second time, which S3 does not do).
"""

import datetime
import json
import sys

import botocore.auth
import botocore.utils
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

out = []
for item in json.load(sys.stdin):
    moment = datetime.datetime.fromtimestamp(item["time"], tz=datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda moment=moment: moment
    request = AWSRequest(
        method=item["method"], url=item["url"], data=bytes.fromhex(item["body_hex"]) or None,
        headers=dict(item["headers"]))
    credentials = Credentials(item["access_key"], item["secret_key"], item["token"])
    botocore.auth.S3SigV4Auth(credentials, "s3", item["region"]).add_auth(request)
    out.append({
        "authorization": request.headers["Authorization"],
        "encoded_key": botocore.utils.percent_encode(item["key"], safe="/~"),
    })
print(json.dumps(out))
