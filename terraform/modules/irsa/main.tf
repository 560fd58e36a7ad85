data "aws_region" "current" {}

locals {
  # The provider ARN ends with the issuer host and path: arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID
  oidc_issuer = element(split("oidc-provider/", var.oidc_provider_arn), 1)

  # RDS names the master secrets it manages rds!db-<uuid>, in the partition, region and account of their
  # instance (arn:PARTITION:rds:REGION:ACCOUNT:db:ID): the names are random, the instance's tag is not.
  rds_managed_secret_arns = distinct([
    for pattern in var.rds_managed_secret_instance_arn_patterns : format(
      "arn:%s:secretsmanager:%s:%s:secret:rds!db-*",
      split(":", pattern)[1], split(":", pattern)[3], split(":", pattern)[4],
    )
  ])
  reads_secrets = length(var.secret_arns) > 0 || length(var.rds_managed_secret_instance_arn_patterns) > 0
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = [for s in var.namespace_service_accounts : "system:serviceaccount:${s}"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.role_name
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each = var.policy_arns

  role       = aws_iam_role.this.name
  policy_arn = each.value
}

################################################################################
# Secrets read access
################################################################################

data "aws_iam_policy_document" "secrets" {
  count = local.reads_secrets ? 1 : 0

  dynamic "statement" {
    for_each = length(var.secret_arns) > 0 ? [1] : []

    content {
      sid       = "ReadSecrets"
      actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      resources = var.secret_arns
    }
  }

  # The master secret of an instance RDS created later (a restore), known only by the tag RDS puts on it.
  dynamic "statement" {
    for_each = length(var.rds_managed_secret_instance_arn_patterns) > 0 ? [1] : []

    content {
      sid       = "ReadRdsManagedMasterSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = local.rds_managed_secret_arns

      condition {
        test     = "StringLike"
        variable = "secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn"
        values   = var.rds_managed_secret_instance_arn_patterns
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []

    content {
      sid       = "DecryptSecrets"
      actions   = ["kms:Decrypt"]
      resources = var.kms_key_arns

      # Only to read the secrets: no direct use of the key.
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${data.aws_region.current.name}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "secrets" {
  count = local.reads_secrets ? 1 : 0

  name   = "read-secrets"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.secrets[0].json
}

################################################################################
# Velero
################################################################################

data "aws_iam_policy_document" "velero" {
  count = var.attach_velero_policy ? 1 : 0

  statement {
    sid = "Ec2Snapshots"
    actions = [
      "ec2:DescribeVolumes",
      "ec2:DescribeSnapshots",
      "ec2:CreateTags",
      "ec2:CreateVolume",
      "ec2:CreateSnapshot",
      "ec2:DeleteSnapshot",
    ]
    # checkov:skip=CKV_AWS_111:EC2 snapshot actions do not support resource-level ARNs known in advance; Velero creates the snapshots.
    # checkov:skip=CKV_AWS_356:Same reason: the snapshot and volume ARNs are created at backup time.
    resources = ["*"]
  }

  statement {
    sid = "BucketObjects"
    actions = [
      "s3:GetObject",
      "s3:DeleteObject",
      "s3:PutObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = [for b in var.s3_bucket_arns : "${b}/*"]
  }

  statement {
    sid       = "BucketList"
    actions   = ["s3:ListBucket"]
    resources = var.s3_bucket_arns
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []

    content {
      sid       = "BucketKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = var.kms_key_arns
    }
  }
}

resource "aws_iam_role_policy" "velero" {
  count = var.attach_velero_policy ? 1 : 0

  name   = "velero"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.velero[0].json
}

################################################################################
# Log shipping: streams of the given log groups only (a log group ARN and its streams, `<arn>:*`)
################################################################################

data "aws_iam_policy_document" "logs" {
  count = length(var.log_group_arns) > 0 ? 1 : 0

  statement {
    sid       = "WriteLogStreams"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = flatten([for arn in var.log_group_arns : [arn, "${arn}:*"]])
  }
}

resource "aws_iam_role_policy" "logs" {
  count = length(var.log_group_arns) > 0 ? 1 : 0

  name   = "write-logs"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.logs[0].json
}

################################################################################
# AWS Load Balancer Controller: the upstream policy of the controller version we install, unchanged
# (policies/README.md names its source and version; replace the file when the chart is bumped).
################################################################################

resource "aws_iam_role_policy" "load_balancer_controller" {
  count = var.attach_load_balancer_controller_policy ? 1 : 0

  name   = "aws-load-balancer-controller"
  role   = aws_iam_role.this.id
  policy = file("${path.module}/policies/aws-load-balancer-controller.json")
}
