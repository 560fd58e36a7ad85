data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account    = data.aws_caller_identity.current.account_id
  trail_name = "${var.name}-audit"
  # Known before the trail exists: the bucket policy admits this trail alone (aws:SourceArn).
  trail_arn  = "arn:${local.partition}:cloudtrail:${data.aws_region.current.name}:${local.account}:trail/${local.trail_name}"
  bucket_arn = module.log_bucket.bucket_arns["audit-logs"]
}

################################################################################
# The log bucket: the backup buckets' protections (module backup_storage), written by CloudTrail
################################################################################

module "log_bucket" {
  source = "../backup_storage"

  name    = var.name
  purpose = "audit-log"
  buckets = {
    audit-logs = {
      transition_days = 30
      noncurrent_days = 30
      expiration_days = var.log_expiration_days
    }
  }
  kms_allow_services      = ["cloudtrail.amazonaws.com"]
  bucket_policy_documents = { audit-logs = data.aws_iam_policy_document.log_bucket.json }
  deny_insecure_transport = var.deny_insecure_transport
  force_destroy           = var.force_destroy

  tags = var.tags
}

data "aws_iam_policy_document" "log_bucket" {
  statement {
    sid       = "CloudTrailAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = [local.bucket_arn]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }

  statement {
    sid       = "CloudTrailWrite"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/cloudtrail/AWSLogs/${local.account}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }
}

################################################################################
# CloudTrail: every region, validated log files, and the backup buckets' object-level calls
################################################################################

resource "aws_cloudtrail" "this" {
  # checkov:skip=CKV_AWS_252:No SNS topic: nothing consumes a notice per delivered log file; GuardDuty reads the same events and raises findings.
  # checkov:skip=CKV2_AWS_10:The record is the bucket (KMS, versioned, log file validation); alerting on API calls is GuardDuty's. A CloudWatch copy would pay ingest for every event a second time.
  name                          = local.trail_name
  s3_bucket_name                = module.log_bucket.bucket_names["audit-logs"]
  s3_key_prefix                 = "cloudtrail"
  kms_key_id                    = module.log_bucket.kms_key_arn
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true

  advanced_event_selector {
    name = "Management events"

    field_selector {
      field  = "eventCategory"
      equals = ["Management"]
    }
  }

  advanced_event_selector {
    name = "Object-level calls on the backup buckets"

    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }

    field_selector {
      field  = "resources.type"
      equals = ["AWS::S3::Object"]
    }

    field_selector {
      field       = "resources.ARN"
      starts_with = [for arn in var.data_event_bucket_arns : "${arn}/"]
    }
  }

  tags = var.tags

  # CloudTrail checks on creation that it may write to the bucket.
  depends_on = [module.log_bucket]
}

################################################################################
# GuardDuty with EKS protection (the control plane's audit logs)
################################################################################

resource "aws_guardduty_detector" "this" {
  # checkov:skip=CKV2_AWS_3:Each environment is an account of its own with its own detector; no AWS Organization is managed here (its delegated administrator would enroll the accounts).
  count = var.enable_guardduty ? 1 : 0

  enable                       = true
  finding_publishing_frequency = "FIFTEEN_MINUTES"

  tags = var.tags
}

resource "aws_guardduty_detector_feature" "eks_audit_logs" {
  count = var.enable_guardduty ? 1 : 0

  detector_id = aws_guardduty_detector.this[0].id
  name        = "EKS_AUDIT_LOGS"
  status      = "ENABLED"
}

################################################################################
# AWS Config: every supported resource recorded, managed rules evaluated
################################################################################

data "aws_iam_policy_document" "config_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "config" {
  count = var.enable_config ? 1 : 0

  name               = "${var.name}-config"
  assume_role_policy = data.aws_iam_policy_document.config_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "config" {
  count = var.enable_config ? 1 : 0

  role       = aws_iam_role.config[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWS_ConfigRole"
}

data "aws_iam_policy_document" "config_delivery" {
  statement {
    sid       = "CheckTheBucket"
    actions   = ["s3:GetBucketAcl"]
    resources = [local.bucket_arn]
  }

  statement {
    sid       = "DeliverSnapshots"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/config/AWSLogs/${local.account}/*"]
  }

  statement {
    sid       = "EncryptThem"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [module.log_bucket.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "config_delivery" {
  count = var.enable_config ? 1 : 0

  name   = "deliver-to-the-audit-bucket"
  role   = aws_iam_role.config[0].id
  policy = data.aws_iam_policy_document.config_delivery.json
}

resource "aws_config_configuration_recorder" "this" {
  count = var.enable_config ? 1 : 0

  name     = var.name
  role_arn = aws_iam_role.config[0].arn

  recording_group {
    all_supported                 = true
    include_global_resource_types = true
  }
}

resource "aws_config_delivery_channel" "this" {
  count = var.enable_config ? 1 : 0

  name           = var.name
  s3_bucket_name = module.log_bucket.bucket_names["audit-logs"]
  s3_key_prefix  = "config"
  s3_kms_key_arn = module.log_bucket.kms_key_arn

  depends_on = [aws_config_configuration_recorder.this, aws_iam_role_policy.config_delivery]
}

resource "aws_config_configuration_recorder_status" "this" {
  count = var.enable_config ? 1 : 0

  name       = aws_config_configuration_recorder.this[0].name
  is_enabled = true

  depends_on = [aws_config_delivery_channel.this]
}

resource "aws_config_config_rule" "this" {
  for_each = var.enable_config ? var.config_rules : {}

  name = "${var.name}-${each.key}"

  source {
    owner             = "AWS"
    source_identifier = each.value
  }

  tags = var.tags

  depends_on = [aws_config_configuration_recorder.this]
}
