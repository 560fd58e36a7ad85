data "aws_caller_identity" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
}

module "kms" {
  source = "../kms_key"

  description    = "${var.name} ${var.purpose} buckets"
  alias          = "s3/${var.name}-${var.purpose}s"
  allow_services = var.kms_allow_services
  tags           = var.tags
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18:Object-level access is recorded by the CloudTrail trail's S3 data events (module audit, its data_event_bucket_arns: the backup buckets); the audit bucket itself is written by CloudTrail and Config alone, and its bucket-level calls are the trail's management events. Server access logs would need yet another bucket with its own protections.
  # checkov:skip=CKV2_AWS_62:Nothing consumes object events of backup buckets.
  # checkov:skip=CKV_AWS_144:No bucket is replicated. Off-region, prod copies only RDS: each manual snapshot playbooks/dr/backup.yml takes goes to db_recovery_rds_copy_region under that region's key (role db_recovery); the velero bucket (Kubernetes objects), Velero's EBS snapshots and the audit bucket stay in the region, and db-backups holds nothing on AWS (barman-cloud archives exist only for the local pod, in the emulator). Replication would need a bucket and KMS key in the DR region, which no Terraform here manages.
  for_each = var.buckets

  bucket        = "${var.name}-${each.key}-${local.account}"
  force_destroy = var.force_destroy

  tags = merge(var.tags, { Purpose = each.key })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.kms.key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    id     = "tiering-and-expiry"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    transition {
      days          = var.buckets[each.key].transition_days
      storage_class = "STANDARD_IA"
    }

    dynamic "expiration" {
      for_each = var.buckets[each.key].expiration_days > 0 ? [var.buckets[each.key].expiration_days] : []

      content {
        days = expiration.value
      }
    }

    noncurrent_version_expiration {
      noncurrent_days = var.buckets[each.key].noncurrent_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  for_each = {
    for key, bucket in aws_s3_bucket.this : key => bucket
    if var.deny_insecure_transport || contains(keys(var.bucket_policy_documents), key)
  }

  source_policy_documents = compact([lookup(var.bucket_policy_documents, each.key, "")])

  dynamic "statement" {
    for_each = var.deny_insecure_transport ? [1] : []

    content {
      sid     = "DenyInsecureTransport"
      effect  = "Deny"
      actions = ["s3:*"]
      resources = [
        each.value.arn,
        "${each.value.arn}/*",
      ]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "Bool"
        variable = "aws:SecureTransport"
        values   = ["false"]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = data.aws_iam_policy_document.bucket

  bucket = aws_s3_bucket.this[each.key].id
  policy = each.value.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
