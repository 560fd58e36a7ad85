variable "repository_name" {
  description = "Name of the ECR repository."
  type        = string
}

variable "image_tag_mutability" {
  description = "IMMUTABLE (a tag can never be moved) or MUTABLE."
  type        = string
  default     = "IMMUTABLE"

  validation {
    condition     = contains(["IMMUTABLE", "MUTABLE"], var.image_tag_mutability)
    error_message = "image_tag_mutability must be IMMUTABLE or MUTABLE."
  }
}

variable "scan_on_push" {
  description = "Whether each pushed image is scanned for vulnerabilities."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "KMS key encrypting the images; null creates a dedicated key."
  type        = string
  default     = null
}

variable "keep_tagged_images" {
  description = "How many release-tagged images (`v*`) the lifecycle policy keeps."
  type        = number
  default     = 30
}

variable "untagged_image_expiry_days" {
  description = "Days after which untagged images expire."
  type        = number
  default     = 7
}

variable "read_principal_arns" {
  description = "IAM principals allowed to pull (the EKS node role is allowed through its managed policy already)."
  type        = list(string)
  default     = []
}

variable "force_delete" {
  description = "Whether destroy deletes the repository even if it holds images (throw-away environments only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
