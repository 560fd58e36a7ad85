# The local environment: the same composition, pointed at the AWS emulator (moto_server) on loopback.

variable "aws_endpoint" {
  description = "URL of the AWS emulator every service endpoint points to."
  type        = string
  default     = "http://127.0.0.1:4566"

  validation {
    condition     = can(regex("^http://(127\\.0\\.0\\.1|localhost):[0-9]+$", var.aws_endpoint))
    error_message = "The local environment only talks to an emulator on loopback."
  }
}

provider "aws" {
  region              = var.region
  allowed_account_ids = var.allowed_account_ids

  # The emulator accepts any credentials; these are its documented test values, not secrets.
  access_key = "testing" # checkov:skip=CKV_AWS_41:Fixed moto test credentials for the loopback emulator, not a secret.
  secret_key = "testing"

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = false
  s3_use_path_style           = true

  endpoints {
    cloudtrail     = var.aws_endpoint
    configservice  = var.aws_endpoint
    ec2            = var.aws_endpoint
    eks            = var.aws_endpoint
    guardduty      = var.aws_endpoint
    iam            = var.aws_endpoint
    kms            = var.aws_endpoint
    logs           = var.aws_endpoint
    rds            = var.aws_endpoint
    ecr            = var.aws_endpoint
    s3             = var.aws_endpoint
    secretsmanager = var.aws_endpoint
    sts            = var.aws_endpoint
    wafv2          = var.aws_endpoint
  }

  default_tags {
    tags = {
      Project     = "titanic"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
