# The role GitHub Actions assumes through OIDC to build and deploy the API into this account. Its trust admits
# one repository's jobs of one GitHub environment only (whose deployment branch policy admits main only, see
# docs/ci-cd.md); its rights are what playbooks/build.yml and playbooks/deploy.yml call on an eks inventory.
# Terraform, the cluster's add-ons and the services outside Terraform stay with the platform administrators.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  issuer = "token.actions.githubusercontent.com"
  # Built rather than read from the resource so that the trust policy is known at plan time (tests read it);
  # depends_on below orders the provider first.
  oidc_provider_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/${local.issuer}"
  subject           = "repo:${var.github_repository}:environment:${var.github_environment}"
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = "https://${local.issuer}"
  client_id_list = ["sts.amazonaws.com"]

  tags = var.tags
}

resource "aws_iam_role" "this" {
  # checkov:skip=CKV_AWS_393:checkov renders the sub with the composition's empty default repository (local has no deployer); the sub is exactly repo:<owner/name>:environment:<env> (variable validation, tests/terraform).
  name                 = var.role_name
  description          = "GitHub Actions of ${var.github_repository}, environment ${var.github_environment}: build and deploy the API."
  max_session_duration = var.max_session_duration
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.issuer}:aud" = "sts.amazonaws.com"
          "${local.issuer}:sub" = local.subject
        }
      }
    }]
  })

  tags = var.tags

  depends_on = [aws_iam_openid_connect_provider.github]
}

resource "aws_iam_role_policy" "deploy" {
  name = "deploy"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Registry login (titanic.ops.ecr_login): AWS defines no resource for it.
        Sid      = "EcrLogin"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      },
      {
        # Push by podman (build) and the deploy's check that the tag exists (titanic.ops.ecr_image_info).
        Sid    = "EcrPushAndRead"
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:CompleteLayerUpload",
          "ecr:DescribeImages",
          "ecr:GetDownloadUrlForLayer",
          "ecr:InitiateLayerUpload",
          "ecr:PutImage",
          "ecr:UploadLayerPart",
        ]
        Resource = var.ecr_repository_arns
      },
      {
        # The kubeconfig of titanic_eks; what it may do in the cluster is its EKS access entry's policy.
        Sid      = "EksDescribe"
        Effect   = "Allow"
        Action   = ["eks:DescribeCluster"]
        Resource = [var.cluster_arn]
      },
      {
        # The API's database login and write tokens, which titanic_eks puts into Kubernetes Secrets.
        Sid      = "ReadDeploySecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
        Resource = var.secret_arns
      },
    ]
  })
}

# Apart from the policy above so that its document stays known at plan time: the keys are created by the same
# apply. Decrypt only on Secrets Manager's behalf, never directly.
resource "aws_iam_role_policy" "decrypt_secrets" {
  count = length(var.kms_key_arns) > 0 ? 1 : 0

  name = "decrypt-secrets"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DecryptThroughSecretsManager"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = var.kms_key_arns
      Condition = { StringEquals = { "kms:ViaService" = "secretsmanager.${data.aws_region.current.name}.amazonaws.com" } }
    }]
  })
}

# The image signatures: the build job writes one next to each image it pushes, the deploy job reads them before
# it runs an image (roles titanic_image and image_signature). Objects only, never a delete.
resource "aws_iam_role_policy" "image_signatures" {
  count = var.signature_bucket_arn != "" ? 1 : 0

  name = "image-signatures"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadWriteSignatures"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject"]
        Resource = ["${var.signature_bucket_arn}/*"]
      },
      {
        Sid      = "ListSignatures"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [var.signature_bucket_arn]
      },
    ]
  })
}

# Apart, like decrypt_secrets: the bucket's key is created by the same apply. Through S3 only.
resource "aws_iam_role_policy" "image_signatures_key" {
  count = var.signature_bucket_arn != "" ? 1 : 0

  name = "image-signatures-key"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "SignatureKeyThroughS3"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = [var.signature_kms_key_arn]
      Condition = { StringEquals = { "kms:ViaService" = "s3.${data.aws_region.current.name}.amazonaws.com" } }
    }]
  })
}

# `terraform output` of a fresh runner (playbooks/platform_record.yml), which writes the platform record the build
# and deploy stages read: the environment's state object only, read, never written or locked (outputs take no
# lock). The S3 backend lists the env:/ prefix for workspaces at init. The state's SSE-KMS key is the AWS
# managed aws/s3, whose key policy already admits the account's principals through S3.
resource "aws_iam_role_policy" "read_state" {
  count = var.state_bucket != "" ? 1 : 0

  name = "read-platform-state"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadPlatformState"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["arn:${data.aws_partition.current.partition}:s3:::${var.state_bucket}/${var.state_key}"]
      },
      {
        Sid       = "ListPlatformState"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = ["arn:${data.aws_partition.current.partition}:s3:::${var.state_bucket}"]
        Condition = { StringEquals = { "s3:prefix" = [var.state_key, "env:/"] } }
      },
    ]
  })
}
