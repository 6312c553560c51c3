#!/usr/bin/env python3
"""Writes iam.json and sts.json beside this file: the subsets of botocore's `iam` (2010-05-08)
and `sts` (2011-06-15) models that billtrail serves.

Operations, shapes, constraints, `required` lists, result wrappers and error traits are copied
from the botocore that is installed (pinned in scripts/requirements-e2e.txt); only the shapes the
chosen operations reach are kept. botocore's documentation is dropped and replaced by the short
texts below. The Rust test `tests/query_botocore.rs` checks that the files still equal what this
script would write from the pinned botocore, so run it again after bumping botocore:

    $BILLTRAIL_VENV/bin/python crates/protocol/models/subset.py
"""

import json
import os
import re
import sys

import botocore.loaders

IAM_OPERATIONS = {
    "CreateUser": "Creates an IAM user.",
    "GetUser": "Describes an IAM user; without a name, the caller.",
    "ListUsers": "Lists the IAM users under a path prefix.",
    "DeleteUser": "Deletes an IAM user that owns nothing any more.",
    "CreateAccessKey": "Creates an access key for a user; the secret is returned only here.",
    "ListAccessKeys": "Lists a user's access keys, without their secrets.",
    "UpdateAccessKey": "Activates or deactivates an access key.",
    "DeleteAccessKey": "Deletes an access key.",
    "CreateLoginProfile": "Gives a user a console password.",
    "CreateRole": "Creates a role with a trust policy.",
    "GetRole": "Describes a role, with its trust policy.",
    "DeleteRole": "Deletes a role that has no policies left.",
    "PutUserPolicy": "Adds or replaces an inline policy of a user.",
    "PutRolePolicy": "Adds or replaces an inline policy of a role.",
    "AttachUserPolicy": "Attaches a managed policy to a user.",
    "AttachRolePolicy": "Attaches a managed policy to a role.",
    "GetUserPolicy": "Returns an inline policy of a user.",
    "GetRolePolicy": "Returns an inline policy of a role.",
    "ListAttachedUserPolicies": "Lists the managed policies attached to a user.",
    "ListAttachedRolePolicies": "Lists the managed policies attached to a role.",
    "ListRoles": "Lists the roles under a path prefix.",
}

STS_OPERATIONS = {
    "GetCallerIdentity": "Says who the caller is: user ID, account and ARN.",
    "AssumeRole": "Returns temporary credentials for a role the caller is trusted to assume.",
    "GetFederationToken": "Returns temporary credentials for a federated user, limited by a session policy.",
    "GetSessionToken": "Returns temporary credentials for the calling user, optionally MFA-backed.",
}

SHAPE_DOCS = {
    # IAM structures
    "AccessKey": "An access key with its secret, as returned once by CreateAccessKey.",
    "AccessKeyMetadata": "An access key without its secret.",
    "AttachedPermissionsBoundary": "The permissions boundary of a user or role.",
    "AttachedPolicy": "A managed policy attached to a user or role.",
    "LoginProfile": "A user's console password settings (never the password).",
    "Role": "An IAM role.",
    "RoleLastUsed": "When and where a role was last used.",
    "SourceRoleTemplate": "The template a role was created from.",
    "Tag": "A key-value tag.",
    "User": "An IAM user.",
    # STS structures
    "AssumedRoleUser": "The assumed-role session: its ID and ARN.",
    "Credentials": "Temporary credentials: access key ID, secret, session token and expiry.",
    "FederatedUser": "The federated user: its ID and ARN.",
    "PolicyDescriptorType": "The ARN of a managed policy used as a session policy.",
    "ProvidedContext": "A context assertion from a trusted provider.",
    # errors
    "ConcurrentModificationException": "Another request changed the same entity at the same time.",
    "DeleteConflictException": "The entity still owns subordinate entities and cannot be deleted.",
    "EntityAlreadyExistsException": "An entity with this name already exists.",
    "InvalidInputException": "An input parameter is invalid.",
    "LimitExceededException": "An account quota would be exceeded.",
    "MalformedPolicyDocumentException": "The policy document is not a valid policy.",
    "NoSuchEntityException": "The named entity does not exist.",
    "PasswordPolicyViolationException": "The password does not meet the account's password policy.",
    "PolicyNotAttachableException": "This managed policy cannot be attached.",
    "ServiceFailureException": "The request failed because of an unknown error.",
    "UnmodifiableEntityException": "The entity is protected and cannot be changed.",
    "ExpiredTokenException": "The identity token passed in the request has expired.",
    "InvalidContextAssertionException": "A provided context assertion is not valid.",
    "PackedPolicyTooLargeException": "The session policies and tags are too large once packed.",
    "RegionDisabledException": "STS is not activated in the requested Region.",
}

MEMBER_DOCS = {
    "AccessKey": "The new access key, with its secret.",
    "AccessKeyId": "The access key ID.",
    "AccessKeyMetadata": "The access keys.",
    "Account": "The 12-digit ID of the caller's account.",
    "Arn": "The ARN.",
    "AssumeRolePolicyDocument": "The trust policy: who may assume the role (URL-encoded JSON).",
    "AssumedRoleId": "The role ID and session name, `<roleId>:<sessionName>`.",
    "AssumedRoleUser": "The assumed-role session.",
    "AttachedPolicies": "The attached managed policies.",
    "ContextAssertion": "The signed context assertion.",
    "CreateDate": "When the entity was created.",
    "Credentials": "The temporary credentials.",
    "Description": "A description of the role.",
    "DurationSeconds": "How long the credentials last, in seconds.",
    "Expiration": "When the credentials expire.",
    "ExternalId": "The external ID the role's trust policy may require.",
    "FederatedUser": "The federated user.",
    "FederatedUserId": "The federated user's ID, `<account>:<name>`.",
    "IsTruncated": "Whether more results follow (use Marker to get them).",
    "Key": "The tag key.",
    "LastUsedDate": "When the role was last used.",
    "LoginProfile": "The console password settings.",
    "Marker": "The pagination marker.",
    "MaxItems": "The most results to return.",
    "MaxSessionDuration": "The longest session the role allows, in seconds.",
    "MaxSigninSessionDuration": "The longest console session allowed, in seconds.",
    "MinimumSessionTokenSize": "The smallest session token the caller can store.",
    "Name": "The name of the federated user.",
    "PackedPolicySize": "How close the packed session policies and tags are to the limit, in percent.",
    "Password": "The console password.",
    "PasswordLastUsed": "When the user's password was last used to sign in.",
    "PasswordResetRequired": "Whether the user must set a new password at next sign-in.",
    "Path": "The path of the entity.",
    "PathPrefix": "Only entities whose path starts with this prefix.",
    "PermissionsBoundary": "The permissions boundary.",
    "PermissionsBoundaryArn": "The ARN of the boundary policy.",
    "PermissionsBoundaryType": "The kind of boundary.",
    "Policy": "An inline session policy (JSON).",
    "PolicyArn": "The ARN of the managed policy.",
    "PolicyArns": "Managed policies used as session policies.",
    "PolicyDocument": "The policy document (URL-encoded JSON).",
    "PolicyName": "The name of the policy.",
    "ProvidedContexts": "Context assertions from trusted providers.",
    "ProviderArn": "The ARN of the context provider.",
    "Region": "The Region in which the role was last used.",
    "Role": "The role.",
    "RoleArn": "The ARN of the role to assume.",
    "RoleId": "The stable ID of the role.",
    "RoleLastUsed": "When and where the role was last used.",
    "RoleName": "The name of the role.",
    "RoleSessionName": "The name of the assumed-role session.",
    "Roles": "The roles.",
    "SecretAccessKey": "The secret access key.",
    "SerialNumber": "The serial number or ARN of the caller's MFA device.",
    "SessionToken": "The session token to send with the temporary credentials.",
    "SessionTokenSize": "The size of the session token.",
    "SessionTokenUtilization": "How much of the session token's capacity is used, in percent.",
    "SourceIdentity": "The source identity set for the session.",
    "SourceRoleTemplate": "The template the role was created from.",
    "Status": "Whether the key may be used.",
    "Tags": "The tags.",
    "TemplateArn": "The ARN of the template.",
    "TemplateMinorVersion": "The minor version of the template.",
    "TokenCode": "The current code of the MFA device.",
    "TransitiveTagKeys": "The session tags that pass on to chained role sessions.",
    "User": "The user.",
    "UserId": "The stable ID of the user (or of the caller).",
    "UserName": "The name of the user.",
    "Users": "The users.",
    "Value": "The tag value.",
    "arn": "The ARN of the managed policy.",
    "message": "What went wrong.",
}


def scalar_doc(name, shape):
    """A short description of a shape that has none above, from its own traits."""
    kind = shape["type"]
    if name.endswith("Request"):
        return f"The input of {name[: -len('Request')]}."
    if name.endswith("Response"):
        return f"The output of {name[: -len('Response')]}."
    if name.endswith("Message") or name.endswith("message"):
        return "An error message."
    if kind == "list":
        return f"A list of {shape['member']['shape']}."
    if kind == "string" and "enum" in shape:
        return "One of: " + ", ".join(shape["enum"]) + "."
    words = re.sub(r"(Type)$", "", name)
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", words).lower()
    article = "An" if kind[0] in "aeiou" else "A"
    parts = [f"{article} {kind}" if words == kind else f"{article} {kind}: {words}"]
    if "min" in shape or "max" in shape:
        lo, hi = shape.get("min"), shape.get("max")
        unit = " characters" if kind == "string" else ""
        if lo is not None and lo == hi:
            parts.append(f"(exactly {lo}{unit})")
        elif hi is None:
            parts.append(f"(at least {lo}{unit})")
        else:
            parts.append(f"({lo or 0} to {hi}{unit})")
    if shape.get("sensitive"):
        parts.append("(sensitive)")
    return " ".join(parts) + "."


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k != "documentation"}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def subset(service, version, operations, extra_metadata):
    model = botocore.loaders.Loader().load_service_model(service, "service-2", version)
    metadata = dict(model["metadata"])
    metadata.update(extra_metadata)
    metadata = dict(sorted(metadata.items()))
    reached = []

    def walk(name):
        if name in reached:
            return
        reached.append(name)
        shape = model["shapes"][name]
        for member in shape.get("members", {}).values():
            walk(member["shape"])
        for key in ("member", "key", "value"):
            if key in shape:
                walk(shape[key]["shape"])

    ops = {}
    for name, doc in operations.items():
        op = strip(model["operations"][name])
        for key in ("input", "output"):
            if key in op:
                walk(op[key]["shape"])
        for error in op.get("errors", []):
            walk(error["shape"])
        op["documentation"] = doc
        ops[name] = op

    shapes = {}
    for name in sorted(reached, key=lambda n: (n.lower(), n)):
        shape = strip(model["shapes"][name])
        for member_name, member in shape.get("members", {}).items():
            member["documentation"] = MEMBER_DOCS[member_name]
        shape["documentation"] = SHAPE_DOCS.get(name) or scalar_doc(name, shape)
        shapes[name] = shape
    return {"version": "2.0", "metadata": metadata, "operations": ops, "shapes": shapes}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = {
        "iam": subset("iam", "2010-05-08", IAM_OPERATIONS, {"signingName": "iam"}),
        "sts": subset("sts", "2011-06-15", STS_OPERATIONS, {"signingName": "sts"}),
    }
    check = "--check" in sys.argv
    stale = []
    for name, model in out.items():
        text = json.dumps(model, indent=2, ensure_ascii=False) + "\n"
        path = os.path.join(here, f"{name}.json")
        if check:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    stale.append(path)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if stale:
        sys.exit("out of date (run models/subset.py): " + ", ".join(stale))


if __name__ == "__main__":
    main()
