data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition = data.aws_partition.current.partition
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
}

data "aws_iam_policy_document" "this" {
  # checkov:skip=CKV_AWS_109:Key policy: "*" is this key; the account root statement is AWS's default key policy, delegating to IAM.
  # checkov:skip=CKV_AWS_111:Key policy: "*" is this key; the account root statement is AWS's default key policy, delegating to IAM.
  # checkov:skip=CKV_AWS_356:Key policy: "*" is this key; the account root statement is AWS's default key policy, delegating to IAM.
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }

  dynamic "statement" {
    for_each = var.allow_cloudwatch_logs ? [1] : []

    content {
      sid       = "CloudWatchLogs"
      actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = ["logs.${local.region}.amazonaws.com"]
      }

      condition {
        test     = "ArnLike"
        variable = "kms:EncryptionContext:aws:logs:arn"
        values   = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.allow_services) > 0 ? [1] : []

    content {
      sid       = "AccountServices"
      actions   = ["kms:GenerateDataKey*", "kms:Decrypt", "kms:DescribeKey"]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = var.allow_services
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account]
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.this.json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  count = var.alias == null ? 0 : 1

  name          = "alias/${var.alias}"
  target_key_id = aws_kms_key.this.key_id
}
