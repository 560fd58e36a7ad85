terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: bucket, key, region and locking are passed by the aws_infra role
  # (-backend-config), one state key per environment.
  backend "s3" {}
}
