variable "role_name" {
  description = "Name of the IAM role the pipeline assumes (the EKS access entries of the inventories name it)."
  type        = string
  default     = "titanic-ci-deployer"
}

variable "github_repository" {
  description = "GitHub repository whose workflows may assume the role, as owner/name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "github_environment" {
  description = "GitHub environment whose jobs may assume the role (the token's sub is repo:<owner/name>:environment:<this>)."
  type        = string
}

variable "create_oidc_provider" {
  description = "Whether to create the account's OIDC provider for GitHub Actions (false: one exists already; an account holds one per URL)."
  type        = bool
  default     = true
}

variable "ecr_repository_arns" {
  description = "ECR repositories the pipeline pushes to and reads from."
  type        = list(string)
}

variable "cluster_arn" {
  description = "EKS cluster the pipeline deploys to (DescribeCluster only: Kubernetes rights come from its access entry)."
  type        = string
}

variable "secret_arns" {
  description = "Secrets Manager secrets the deploy reads (ARNs or ARN patterns ending in -??????)."
  type        = list(string)
}

variable "kms_key_arns" {
  description = "Customer managed keys of those secrets (decrypt through Secrets Manager only)."
  type        = list(string)
  default     = []
}

variable "signature_bucket_arn" {
  description = "Bucket of the image signatures the build stage writes and the deploy stage reads (containers/image's lookaside layout); empty: no access."
  type        = string
  default     = ""
}

variable "signature_kms_key_arn" {
  description = "Customer managed key of the signature bucket (used through S3 only)."
  type        = string
  default     = ""
}

variable "state_bucket" {
  description = "Bucket of the environment's Terraform state, which the pipeline reads (playbooks/platform_record.yml: terraform output); empty: no read."
  type        = string
  default     = ""
}

variable "state_key" {
  description = "Key of the environment's state object in state_bucket."
  type        = string
  default     = ""
}

variable "max_session_duration" {
  description = "Longest session of the role, in seconds."
  type        = number
  default     = 3600
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
