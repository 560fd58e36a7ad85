data "aws_caller_identity" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
}

module "kms" {
  source = "../kms_key"

  description = "${var.name} backup buckets"
  alias       = "s3/${var.name}-backups"
  tags        = var.tags
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18:Written only by Velero through its IRSA role (bucket velero) and, in the emulator alone, by the local pod's barman-cloud (db-backups; nothing writes it on AWS); no access log bucket here, since server access logs would need a log bucket of their own with its retention and protections. Object-level audit is planned as a CloudTrail trail with S3 data events for these buckets (issue 14); none exists yet.
  # checkov:skip=CKV2_AWS_62:Nothing consumes object events of backup buckets.
  # checkov:skip=CKV_AWS_144:No bucket is replicated. Off-region, prod copies only RDS: each manual snapshot playbooks/dr/backup.yml takes goes to db_recovery_rds_copy_region under that region's key (role db_recovery); RDS automated backups, the velero bucket (Kubernetes objects) and Velero's EBS snapshots stay in the region, and db-backups holds nothing on AWS (barman-cloud archives exist only for the local pod, in the emulator). Replication would need a bucket and KMS key in the DR region, which no Terraform here manages.
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
  for_each = var.deny_insecure_transport ? aws_s3_bucket.this : {}

  statement {
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

resource "aws_s3_bucket_policy" "this" {
  for_each = data.aws_iam_policy_document.bucket

  bucket = aws_s3_bucket.this[each.key].id
  policy = each.value.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
