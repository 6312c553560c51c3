#!/usr/bin/env python3
"""Writes iam.json, sts.json and cloudtrail.json beside this file: the subsets of botocore's
`iam` (2010-05-08), `sts` (2011-06-15) and `cloudtrail` (2013-11-01) models that billtrail
serves.

Operations, shapes, constraints, `required` lists, result wrappers and error traits are copied
from the botocore that is installed (pinned in scripts/requirements-e2e.txt); only the shapes the
chosen operations reach are kept. botocore's documentation is dropped and replaced by the short
texts below.

botocore's `cloudtrail` exception shapes are empty and carry no HTTP status; the server needs
both, so each gets a `message` member and `error.httpStatusCode` from the Smithy model's
`httpError` traits (`CLOUDTRAIL_STATUS`; 400 for the rest, as the Smithy model says for every
one we could read). Everything else is botocore's.

The Rust test `tests/query_botocore.rs` checks that the files still equal what this
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


def subset(service, version, operations, extra_metadata, shape_doc=None, member_doc=None):
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
            member["documentation"] = (
                member_doc(name, member_name) if member_doc else MEMBER_DOCS[member_name]
            )
        shape["documentation"] = (
            shape_doc(name, shape) if shape_doc else SHAPE_DOCS.get(name) or scalar_doc(name, shape)
        )
        shapes[name] = shape
    return {"version": "2.0", "metadata": metadata, "operations": ops, "shapes": shapes}


CLOUDTRAIL_OPERATIONS = {
    "LookupEvents": "Looks up management events or CloudTrail Insights events of one Region from the last 90 days, most recent first.",
    "CreateTrail": "Creates a trail: delivery of the account's events to an S3 bucket. It does not log until StartLogging.",
    "UpdateTrail": "Changes a trail's settings. Call it in the trail's home Region.",
    "DeleteTrail": "Deletes a trail; its delivered log files stay in the bucket. Call it in the trail's home Region.",
    "DescribeTrails": "Describes the trails of the current Region, with the shadows of multi-Region trails.",
    "GetTrail": "Describes one trail.",
    "ListTrails": "Lists the trails of the account in every Region: name, ARN and home Region.",
    "GetTrailStatus": "Says whether a trail is logging, and when and how its latest deliveries went.",
    "StartLogging": "Starts recording events for a trail and delivering them. Call it in the trail's home Region.",
    "StopLogging": "Stops recording events for a trail. Call it in the trail's home Region.",
    "PutEventSelectors": "Sets which events a trail logs, with basic or advanced event selectors.",
    "GetEventSelectors": "Returns a trail's event selectors.",
    "AddTags": "Adds tags to a trail, or changes their values.",
    "RemoveTags": "Removes tags from a trail.",
    "ListTags": "Lists the tags of trails.",
    "ListPublicKeys": "Lists the public keys whose private keys signed digest files in a time range.",
}

# HTTP statuses of CloudTrail's errors, from the Smithy model's `smithy.api#httpError` traits.
CLOUDTRAIL_STATUS = {
    "TrailNotFoundException": 404,
    "TrailNotProvidedException": 404,
    "S3BucketDoesNotExistException": 404,
    "OrganizationsNotInUseException": 404,
    "InsufficientS3BucketPolicyException": 403,
    "InsufficientSnsTopicPolicyException": 403,
    "MaximumNumberOfTrailsExceededException": 403,
    "ConflictException": 409,
}

CLOUDTRAIL_SHAPE_DOCS = {
    # LookupEvents (kept as first written)
    "Date": "A point in time; epoch seconds on the wire.",
    "ErrorMessage": "A human-readable description of an error.",
    "Event": "A management or Insights event returned by <code>LookupEvents</code>.",
    "EventCategory": "An event category. The only value is <code>insight</code>.",
    "EventsList": "A list of events.",
    "InvalidEventCategoryException": "The event category is not valid.",
    "InvalidLookupAttributesException": "A lookup attribute is not valid.",
    "InvalidMaxResultsException": "The maximum number of results is not valid.",
    "InvalidNextTokenException": "The next token is not valid, or was issued for other parameters.",
    "InvalidTimeRangeException": "The start time is after the end time.",
    "LookupAttribute": "An attribute and a value that filter the events returned.",
    "LookupAttributeKey": "An attribute on which events can be filtered.",
    "LookupAttributeValue": "The value of a lookup attribute, 1 to 2000 characters.",
    "LookupAttributesList": "A list of lookup attributes. Currently the list can contain only one item.",
    "LookupEventsRequest": "The request for <code>LookupEvents</code>.",
    "LookupEventsResponse": "The response of <code>LookupEvents</code>.",
    "MaxResults": "The number of events to return, 1 to 50.",
    "NextToken": "An opaque pagination token.",
    "OperationNotPermittedException": "The operation is not permitted.",
    "Resource": "A resource referenced by an event.",
    "ResourceList": "The resources referenced by an event.",
    "String": "A string.",
    "UnsupportedOperationException": "The operation is not supported.",
    # Trails
    "AdvancedEventSelector": "An advanced event selector: an event is logged when every one of its field selectors matches.",
    "AdvancedFieldSelector": "A condition on one field of an event (eventCategory, eventSource, eventName, readOnly, ...).",
    "Boolean": "A boolean.",
    "ByteBuffer": "Binary data; base64 on the wire.",
    "DataResource": "Data events to log for one resource type.",
    "EventSelector": "A basic event selector: which management and data events a trail logs.",
    "ExcludeManagementEventSources": "Event sources whose management events the trail does not log.",
    "Operator": "The values a field is compared with.",
    "OperatorValue": "A value a field is compared with.",
    "PublicKey": "A public key that verifies digest file signatures, with its validity.",
    "ReadWriteType": "Which management events: ReadOnly, WriteOnly or All.",
    "ResourceTag": "A resource and its tags.",
    "SelectorField": "The field of an event a condition applies to.",
    "SelectorName": "The name of an advanced event selector.",
    "Tag": "A key-value tag.",
    "TagKey": "A tag key, 1 to 128 characters.",
    "TagValue": "A tag value, 1 to 256 characters.",
    "Trail": "A trail's settings.",
    "TrailInfo": "A trail's name, ARN and home Region.",
    # Errors
    "ChannelARNInvalidException": "The channel ARN is not valid.",
    "ChannelNotFoundException": "No channel has this ARN.",
    "CloudTrailARNInvalidException": "The ARN is not a valid CloudTrail ARN, or names another Region.",
    "CloudTrailAccessNotEnabledException": "Trusted access between CloudTrail and Organizations is not enabled.",
    "CloudTrailInvalidClientTokenIdException": "The caller's credentials cannot be used for this operation.",
    "CloudWatchLogsDeliveryUnavailableException": "Events cannot be delivered to CloudWatch Logs.",
    "ConflictException": "The resource is being changed by another request; try again.",
    "EventDataStoreARNInvalidException": "The event data store ARN is not valid.",
    "EventDataStoreNotFoundException": "No event data store has this ARN.",
    "InactiveEventDataStoreException": "The event data store is not active.",
    "InsufficientDependencyServiceAccessPermissionException": "CloudTrail may not call a service it depends on.",
    "InsufficientEncryptionPolicyException": "The KMS key policy does not let CloudTrail encrypt.",
    "InsufficientS3BucketPolicyException": "The bucket policy does not let CloudTrail write.",
    "InsufficientSnsTopicPolicyException": "The topic policy does not let CloudTrail publish.",
    "InvalidCloudWatchLogsLogGroupArnException": "The CloudWatch Logs log group ARN is not valid.",
    "InvalidCloudWatchLogsRoleArnException": "The CloudWatch Logs role ARN is not valid.",
    "InvalidEventSelectorsException": "The event selectors are not valid.",
    "InvalidHomeRegionException": "The operation must be called in the trail's home Region.",
    "InvalidKmsKeyIdException": "The KMS key ID is not valid.",
    "InvalidParameterCombinationException": "These parameters cannot be used together.",
    "InvalidParameterException": "A parameter is not valid.",
    "InvalidS3BucketNameException": "The bucket name is not valid.",
    "InvalidS3PrefixException": "The S3 key prefix is not valid.",
    "InvalidSnsTopicNameException": "The SNS topic name is not valid.",
    "InvalidTagParameterException": "A tag key or value is not valid.",
    "InvalidTokenException": "The token is not valid.",
    "InvalidTrailNameException": "The trail name is not valid.",
    "KmsException": "KMS failed.",
    "KmsKeyDisabledException": "The KMS key is disabled.",
    "KmsKeyNotFoundException": "No KMS key has this ID.",
    "MaximumNumberOfTrailsExceededException": "The account already has the most trails a Region allows (5).",
    "NoManagementAccountSLRExistsException": "The management account has no CloudTrail service-linked role.",
    "NotOrganizationMasterAccountException": "Only the organization's management account may do this.",
    "OrganizationNotInAllFeaturesModeException": "The organization does not have all features enabled.",
    "OrganizationsNotInUseException": "The account is not a member of an organization.",
    "ResourceNotFoundException": "No resource has this ARN.",
    "ResourceTypeNotSupportedException": "Tags are not supported on this kind of resource.",
    "S3BucketDoesNotExistException": "The bucket does not exist.",
    "TagsLimitExceededException": "The resource would have more tags than allowed (50).",
    "ThrottlingException": "Too many requests; try again later.",
    "TrailAlreadyExistsException": "A trail with this name already exists in this Region.",
    "TrailNotFoundException": "No trail has this name or ARN.",
    "TrailNotProvidedException": "No trail was named.",
}

TRAIL_SETTINGS = {
    "Name": "The name of the trail.",
    "S3BucketName": "The bucket the trail delivers log files to.",
    "S3KeyPrefix": "The key prefix of the trail's log files in the bucket (at most 200 characters).",
    "SnsTopicName": "The name or ARN of the SNS topic notified of each delivery.",
    "SnsTopicARN": "The ARN of the SNS topic notified of each delivery.",
    "IncludeGlobalServiceEvents": "Whether the trail logs events of global services such as IAM.",
    "IsMultiRegionTrail": "Whether the trail logs every Region, or only its home Region.",
    "EnableLogFileValidation": "Whether digest files are delivered, for log file integrity validation.",
    "LogFileValidationEnabled": "Whether digest files are delivered, for log file integrity validation.",
    "CloudWatchLogsLogGroupArn": "The CloudWatch Logs log group that receives the events.",
    "CloudWatchLogsRoleArn": "The role CloudTrail assumes to write to the log group.",
    "KmsKeyId": "The KMS key that encrypts log files.",
    "IsOrganizationTrail": "Whether the trail logs every account of the organization.",
    "RecursiveLogging": "Whether events CloudTrail makes when delivering are logged too.",
    "TrailARN": "The ARN of the trail.",
    "HomeRegion": "The Region the trail was created in.",
    "HasCustomEventSelectors": "Whether the trail has event selectors other than the default.",
    "HasInsightSelectors": "Whether the trail has Insights selectors.",
}

CLOUDTRAIL_MEMBER_DOCS = {
    # LookupEvents (kept as first written)
    "Event.EventId": "The CloudTrail ID of the event.",
    "Event.EventName": "The name of the event.",
    "Event.ReadOnly": "Whether the event is read-only, as the string <code>true</code> or <code>false</code>.",
    "Event.AccessKeyId": "The access key ID used to make the call.",
    "Event.EventTime": "The time of the event.",
    "Event.EventSource": "The service that the request was made to.",
    "Event.Username": "The user name, or the session name of an assumed role.",
    "Event.Resources": "The resources referenced by the event.",
    "Event.CloudTrailEvent": "The complete CloudTrail record, as a compact JSON string.",
    "LookupAttribute.AttributeKey": "The attribute on which to filter the events returned.",
    "LookupAttribute.AttributeValue": "The value of the attribute. It is case-sensitive.",
    "LookupEventsRequest.LookupAttributes": "The lookup attributes. Currently the list can contain only one item.",
    "LookupEventsRequest.StartTime": "Only events that occurred at or after this time are returned.",
    "LookupEventsRequest.EndTime": "Only events that occurred at or before this time are returned.",
    "LookupEventsRequest.EventCategory": "The event category. Without <code>insight</code>, no Insights events are returned.",
    "LookupEventsRequest.MaxResults": "The number of events to return, 1 to 50. The default is 50.",
    "LookupEventsRequest.NextToken": "The token of the next page, from a previous call with the same parameters.",
    "LookupEventsResponse.Events": "The events, most recent first.",
    "LookupEventsResponse.NextToken": "The token of the next page, absent on the last page.",
    "Resource.ResourceType": "The type of the resource, or absent when it cannot be determined.",
    "Resource.ResourceName": "The name of the resource.",
    "message": "A description of the error.",
    # Trails
    "CreateTrailRequest.Name": "The name of the trail: 3 to 128 letters, digits, periods, underscores and dashes, starting and ending with a letter or digit, no two separators in a row, not an IP address.",
    "CreateTrailRequest.TagsList": "Tags for the new trail.",
    "UpdateTrailRequest.Name": "The name or ARN of the trail.",
    "DeleteTrailRequest.Name": "The name or ARN of the trail.",
    "GetTrailRequest.Name": "The name or ARN of the trail.",
    "GetTrailStatusRequest.Name": "The name or ARN of the trail (the ARN for a shadow trail).",
    "StartLoggingRequest.Name": "The name or ARN of the trail.",
    "StopLoggingRequest.Name": "The name or ARN of the trail.",
    "GetEventSelectorsRequest.TrailName": "The name or ARN of the trail.",
    "PutEventSelectorsRequest.TrailName": "The name or ARN of the trail.",
    "PutEventSelectorsRequest.EventSelectors": "Basic event selectors (at most 5); they replace any advanced ones.",
    "PutEventSelectorsRequest.AdvancedEventSelectors": "Advanced event selectors; they replace any basic ones.",
    "PutEventSelectorsResponse.EventSelectors": "The trail's basic event selectors.",
    "PutEventSelectorsResponse.AdvancedEventSelectors": "The trail's advanced event selectors.",
    "GetEventSelectorsResponse.EventSelectors": "The trail's basic event selectors.",
    "GetEventSelectorsResponse.AdvancedEventSelectors": "The trail's advanced event selectors.",
    "AdvancedEventSelector.Name": "A name for the selector.",
    "AdvancedEventSelector.FieldSelectors": "The conditions, all of which must match.",
    "AdvancedFieldSelector.Field": "The field the condition applies to.",
    "AdvancedFieldSelector.Equals": "The field equals one of these values.",
    "AdvancedFieldSelector.StartsWith": "The field starts with one of these values.",
    "AdvancedFieldSelector.EndsWith": "The field ends with one of these values.",
    "AdvancedFieldSelector.NotEquals": "The field equals none of these values.",
    "AdvancedFieldSelector.NotStartsWith": "The field starts with none of these values.",
    "AdvancedFieldSelector.NotEndsWith": "The field ends with none of these values.",
    "EventSelector.ReadWriteType": "Which management events to log: ReadOnly, WriteOnly or All (the default).",
    "EventSelector.IncludeManagementEvents": "Whether management events are logged (the default is true).",
    "EventSelector.DataResources": "Data events to log, by resource type.",
    "EventSelector.ExcludeManagementEventSources": "Event sources whose management events are not logged.",
    "DataResource.Type": "The resource type.",
    "DataResource.Values": "The resources (ARNs or prefixes).",
    "DescribeTrailsRequest.trailNameList": "Names or ARNs of the trails to describe; empty for every trail of the Region.",
    "DescribeTrailsRequest.includeShadowTrails": "Whether shadows of multi-Region trails and organization trails are included (the default is true).",
    "DescribeTrailsResponse.trailList": "The trails.",
    "GetTrailResponse.Trail": "The trail.",
    "ListTrailsRequest.NextToken": "The token of the next page.",
    "ListTrailsResponse.Trails": "The trails.",
    "ListTrailsResponse.NextToken": "The token of the next page, absent on the last page.",
    "GetTrailStatusResponse.IsLogging": "Whether the trail is logging.",
    "GetTrailStatusResponse.LatestDeliveryError": "The error of the latest failed log file delivery, if it has not succeeded since.",
    "GetTrailStatusResponse.LatestNotificationError": "The error of the latest failed notification, if it has not succeeded since.",
    "GetTrailStatusResponse.LatestDeliveryTime": "When log files were last delivered.",
    "GetTrailStatusResponse.LatestNotificationTime": "When a delivery notification was last sent.",
    "GetTrailStatusResponse.StartLoggingTime": "When logging was last started.",
    "GetTrailStatusResponse.StopLoggingTime": "When logging was last stopped.",
    "GetTrailStatusResponse.LatestCloudWatchLogsDeliveryError": "The error of the latest CloudWatch Logs delivery.",
    "GetTrailStatusResponse.LatestCloudWatchLogsDeliveryTime": "When events were last delivered to CloudWatch Logs.",
    "GetTrailStatusResponse.LatestDigestDeliveryTime": "When a digest file was last delivered.",
    "GetTrailStatusResponse.LatestDigestDeliveryError": "The error of the latest failed digest file delivery.",
    "GetTrailStatusResponse.LatestDeliveryAttemptTime": "When delivery was last attempted (no longer in use).",
    "GetTrailStatusResponse.LatestNotificationAttemptTime": "When a notification was last attempted (no longer in use).",
    "GetTrailStatusResponse.LatestNotificationAttemptSucceeded": "When a notification attempt last succeeded (no longer in use).",
    "GetTrailStatusResponse.LatestDeliveryAttemptSucceeded": "When a delivery attempt last succeeded (no longer in use).",
    "GetTrailStatusResponse.TimeLoggingStarted": "When logging was last started (no longer in use).",
    "GetTrailStatusResponse.TimeLoggingStopped": "When logging was last stopped (no longer in use).",
    "AddTagsRequest.ResourceId": "The ARN of the trail.",
    "AddTagsRequest.TagsList": "The tags to add.",
    "RemoveTagsRequest.ResourceId": "The ARN of the trail.",
    "RemoveTagsRequest.TagsList": "The tags to remove.",
    "ListTagsRequest.ResourceIdList": "The ARNs of the trails.",
    "ListTagsRequest.NextToken": "The token of the next page.",
    "ListTagsResponse.ResourceTagList": "The trails and their tags.",
    "ListTagsResponse.NextToken": "The token of the next page, absent on the last page.",
    "ResourceTag.ResourceId": "The ARN of the trail.",
    "ResourceTag.TagsList": "The tags.",
    "Tag.Key": "The tag key.",
    "Tag.Value": "The tag value.",
    "ListPublicKeysRequest.StartTime": "The start of the time range (the default is the current time).",
    "ListPublicKeysRequest.EndTime": "The end of the time range (the default is the current time).",
    "ListPublicKeysRequest.NextToken": "Reserved for future use.",
    "ListPublicKeysResponse.PublicKeyList": "The public keys.",
    "ListPublicKeysResponse.NextToken": "Reserved for future use.",
    "PublicKey.Value": "The public key, DER-encoded PKCS#1.",
    "PublicKey.ValidityStartTime": "When the key started to sign digest files.",
    "PublicKey.ValidityEndTime": "When the key stopped signing digest files.",
    "PublicKey.Fingerprint": "The key's fingerprint: the lowercase hex MD5 of the DER.",
    "TrailInfo.Name": "The name of the trail.",
    "GetEventSelectorsResponse.TrailARN": "The ARN of the trail.",
    "PutEventSelectorsResponse.TrailARN": "The ARN of the trail.",
}


def cloudtrail_member_doc(shape_name, member_name):
    key = f"{shape_name}.{member_name}"
    if key in CLOUDTRAIL_MEMBER_DOCS:
        return CLOUDTRAIL_MEMBER_DOCS[key]
    if member_name in TRAIL_SETTINGS:
        return TRAIL_SETTINGS[member_name]
    return CLOUDTRAIL_MEMBER_DOCS[member_name]


def cloudtrail_subset():
    model = subset("cloudtrail", "2013-11-01", CLOUDTRAIL_OPERATIONS, {"signingName": "cloudtrail"},
                   shape_doc=lambda name, shape: CLOUDTRAIL_SHAPE_DOCS.get(name) or scalar_doc(name, shape),
                   member_doc=cloudtrail_member_doc)
    shapes = model["shapes"]
    for name, shape in shapes.items():
        if shape.get("exception"):
            shape["members"] = {
                "message": {"shape": "ErrorMessage", "documentation": cloudtrail_member_doc(name, "message")}
            }
            shape["error"] = {"httpStatusCode": CLOUDTRAIL_STATUS.get(name, 400), "senderFault": True}
    assert "ErrorMessage" not in shapes, "botocore's ErrorMessage would be replaced"
    shapes["ErrorMessage"] = {"type": "string", "documentation": CLOUDTRAIL_SHAPE_DOCS["ErrorMessage"]}
    # `<p>` paragraphs, as botocore's own documentation is written.
    for op in model["operations"].values():
        op["documentation"] = f"<p>{op['documentation']}</p>"
    for shape in shapes.values():
        shape["documentation"] = f"<p>{shape['documentation']}</p>"
        for member in shape.get("members", {}).values():
            member["documentation"] = f"<p>{member['documentation']}</p>"
    model["shapes"] = {n: shapes[n] for n in sorted(shapes, key=lambda n: (n.lower(), n))}
    return model


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = {
        "iam": subset("iam", "2010-05-08", IAM_OPERATIONS, {"signingName": "iam"}),
        "sts": subset("sts", "2011-06-15", STS_OPERATIONS, {"signingName": "sts"}),
        "cloudtrail": cloudtrail_subset(),
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
