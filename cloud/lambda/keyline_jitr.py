"""Keyline just-in-time registration (JITR) activation function for AWS IoT.

Invoked asynchronously by the topic rule on ``$aws/events/certificates/registered/<caCertificateId>`` when a
device presents an unknown certificate signed by the registered CA. For each event it:

1. checks the event (status PENDING_ACTIVATION, the expected CA and account);
2. reads the certificate and takes the device serial from its subject CN;
3. checks the allow-list (DynamoDB, keyed by serial) when one is configured;
4. creates the thing named by the serial;
5. attaches the thing and the shared device policy to the certificate;
6. activates the certificate, last, so a partial failure never leaves an ACTIVE certificate behind.

A device whose serial is not (yet) on the allow-list, or whose certificate has no usable serial, is set INACTIVE,
never REVOKED: AWS never lets a revoked certificate become active again, and a device that connected before its
serial reached the allow-list must stay recoverable (`keyline cloud allow-list sync` activates it later). Every step is idempotent, so Lambda's asynchronous retries are safe. Errors are
logged and raised (never swallowed) so the invocation fails visibly and is retried. Only the Python standard
library and the runtime's boto3 are used; there is no module-level mutable state.
"""

import base64
import json
import logging
import os
import re

import boto3
from botocore.exceptions import ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

SERIAL_PATTERN = re.compile(r"^[A-Za-z0-9_:-]{1,128}$")
COMMON_NAME_OID = bytes([0x55, 0x04, 0x03])
STRING_TAGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1"}
MAX_PEM_CHARS = 65536


class EventRejected(Exception):
    """The event is not one this function should act on."""


def handler(event, context):
    settings = _settings()
    LOG.info("registration event: %s", json.dumps(event, default=str)[:2048])
    certificate_id = _validate_event(event, settings, context)
    iot = boto3.client("iot")
    description = iot.describe_certificate(certificateId=certificate_id)["certificateDescription"]
    if description.get("caCertificateId") != settings["ca_id"]:
        raise EventRejected("certificate %s was issued by CA %s, not %s"
                            % (certificate_id, description.get("caCertificateId"), settings["ca_id"]))
    status = description.get("status")
    if status in ("REVOKED", "INACTIVE"):
        LOG.info("certificate %s is %s; leaving it alone", certificate_id, status)
        return {"certificateId": certificate_id, "result": "ignored", "status": status}
    certificate_arn = description["certificateArn"]
    serial = _serial_from_pem(description.get("certificatePem", ""))
    if serial is None:
        return _set_waiting(iot, certificate_id, "no usable serial in the certificate CN")
    if settings["allow_list_table"] and not _is_allowed(settings["allow_list_table"], serial):
        return _set_waiting(iot, certificate_id, "serial %s is not on the allow-list" % serial)
    _ensure_thing(iot, serial)
    iot.attach_thing_principal(thingName=serial, principal=certificate_arn)
    iot.attach_policy(policyName=settings["policy_name"], target=certificate_arn)
    iot.update_certificate(certificateId=certificate_id, newStatus="ACTIVE")
    LOG.info("activated certificate %s for device %s", certificate_id, serial)
    return {"certificateId": certificate_id, "serial": serial, "result": "activated"}


def _settings():
    def required(name):
        value = os.environ.get(name, "").strip()
        if not value:
            raise RuntimeError("environment variable %s is not set; redeploy with `keyline cloud jitr deploy`" % name)
        return value

    return {
        "ca_id": required("KEYLINE_CA_CERTIFICATE_ID"),
        "policy_name": required("KEYLINE_DEVICE_POLICY"),
        "account_id": os.environ.get("KEYLINE_ACCOUNT_ID", "").strip(),
        "allow_list_table": os.environ.get("KEYLINE_ALLOW_LIST_TABLE", "").strip(),
    }


def _validate_event(event, settings, context):
    if not isinstance(event, dict):
        raise EventRejected("event is not a JSON object")
    if event.get("certificateStatus") != "PENDING_ACTIVATION":
        raise EventRejected("certificateStatus is %r, expected PENDING_ACTIVATION" % event.get("certificateStatus"))
    if event.get("caCertificateId") != settings["ca_id"]:
        raise EventRejected("event is for CA %r, this function serves %s" % (event.get("caCertificateId"), settings["ca_id"]))
    account = str(event.get("awsAccountId", ""))
    if settings["account_id"] and account != settings["account_id"]:
        raise EventRejected("event is from account %r, expected %s" % (account, settings["account_id"]))
    certificate_id = str(event.get("certificateId", ""))
    if not re.fullmatch(r"[0-9a-f]{64}", certificate_id):
        raise EventRejected("certificateId %r is not 64 lowercase hex" % certificate_id)
    return certificate_id


def _is_allowed(table, serial):
    item = boto3.client("dynamodb").get_item(
        TableName=table, Key={"serial": {"S": serial}}, ConsistentRead=True
    ).get("Item")
    if item is None:
        return False
    return item.get("enabled", {}).get("BOOL", True) is True


def _set_waiting(iot, certificate_id, reason):
    LOG.warning("leaving certificate %s INACTIVE: %s", certificate_id, reason)
    iot.update_certificate(certificateId=certificate_id, newStatus="INACTIVE")
    return {"certificateId": certificate_id, "result": "inactive", "reason": reason}


def _ensure_thing(iot, serial):
    try:
        iot.create_thing(thingName=serial)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
            raise
        # The thing exists with other attributes: it is still the device's thing.
        iot.describe_thing(thingName=serial)


def _serial_from_pem(pem_text):
    try:
        common_name = _common_name(_pem_to_der(pem_text))
    except ValueError as error:
        LOG.warning("cannot read the certificate: %s", error)
        return None
    if common_name is None or not SERIAL_PATTERN.match(common_name):
        LOG.warning("certificate CN %r is not a device serial", common_name)
        return None
    return common_name


def _pem_to_der(pem_text):
    if not isinstance(pem_text, str) or len(pem_text) > MAX_PEM_CHARS:
        raise ValueError("certificate PEM missing or too long")
    match = re.search(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", pem_text, re.S)
    if match is None:
        raise ValueError("no PEM certificate block")
    try:
        return base64.b64decode("".join(match.group(1).split()), validate=True)
    except (ValueError, TypeError) as error:
        raise ValueError("bad base64 in the certificate: %s" % error)


def _read_tlv(data, position, limit):
    """One DER element at data[position:limit]: (tag, content_start, content_end)."""
    if position + 2 > limit:
        raise ValueError("truncated DER header")
    tag, length = data[position], data[position + 1]
    position += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 3 or position + count > limit:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[position:position + count], "big")
        position += count
    if position + length > limit:
        raise ValueError("DER element runs past its parent")
    return tag, position, position + length


def _children(data, start, end):
    position = start
    while position < end:
        element = _read_tlv(data, position, end)
        yield element
        position = element[2]


def _common_name(der):
    tag, start, end = _read_tlv(der, 0, len(der))
    if tag != 0x30:
        raise ValueError("certificate is not a SEQUENCE")
    tag, tbs_start, tbs_end = _read_tlv(der, start, end)
    if tag != 0x30:
        raise ValueError("tbsCertificate is not a SEQUENCE")
    fields = list(_children(der, tbs_start, tbs_end))
    index = 1 if fields and fields[0][0] == 0xA0 else 0
    if len(fields) < index + 5:
        raise ValueError("tbsCertificate has too few fields")
    # serialNumber, signature, issuer, validity, subject
    subject_tag, subject_start, subject_end = fields[index + 4]
    if subject_tag != 0x30:
        raise ValueError("subject is not a SEQUENCE")
    for rdn_tag, rdn_start, rdn_end in _children(der, subject_start, subject_end):
        if rdn_tag != 0x31:
            raise ValueError("subject RDN is not a SET")
        for _, attr_start, attr_end in _children(der, rdn_start, rdn_end):
            parts = list(_children(der, attr_start, attr_end))
            if len(parts) != 2 or parts[0][0] != 0x06:
                raise ValueError("malformed subject attribute")
            oid = der[parts[0][1]:parts[0][2]]
            value_tag, value_start, value_end = parts[1]
            if oid == COMMON_NAME_OID:
                encoding = STRING_TAGS.get(value_tag)
                if encoding is None:
                    raise ValueError("CN has an unsupported string type 0x%02x" % value_tag)
                return der[value_start:value_end].decode(encoding)
    return None
