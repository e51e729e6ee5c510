"""IAM's MalformedPolicyDocument messages, worded as AWS words them."""

from __future__ import annotations

from shipyard.errors import AwsError

SYNTAX = "Syntax errors in policy."
LEGACY = "The policy failed legacy parsing"
DUPLICATE_SID = "Statement IDs (SID) in a single policy must be unique."
NO_ACTIONS = "Policy statement must contain actions."
NO_RESOURCES = "Policy statement must contain resources."
NO_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
TWO_COLONS = "Actions/Condition can contain only one colon."
HAS_PRINCIPAL = "Policy document should not specify a principal."
MISSING_PRINCIPAL = "Missing required field Principal"
TRUST_WITHOUT_PRINCIPAL = (
    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
    "The passed in policy has a statement with no principals!"
)
TRUST_WITH_RESOURCE = "Has prohibited field Resource."
VENDOR_NOT_FULLY_QUALIFIED = (
    "Resource vendor must be fully qualified and cannot contain regexes."
)
IAM_PATH = (
    'IAM resource path must either be "*" or start with user/, federated-user/, role/, '
    "group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, "
    "saml-provider/, oidc-provider/, report/, access-report/."
)


def malformed(message: str) -> AwsError:
    """The MalformedPolicyDocument error (HTTP 400) with ``message``."""
    return AwsError("MalformedPolicyDocument", message, 400)
