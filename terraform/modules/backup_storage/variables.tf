variable "name" {
  description = "Name prefix of the buckets (the account ID is appended for global uniqueness)."
  type        = string
}

variable "buckets" {
  description = "Buckets to create: map of purpose (`db-backups`, `velero`) => { noncurrent_days, transition_days, expiration_days }."
  type = map(object({
    transition_days = optional(number, 30)
    expiration_days = optional(number, 0)
    noncurrent_days = optional(number, 30)
  }))
  default = {
    db-backups = {}
    velero     = {}
  }
}

variable "purpose" {
  description = "What the buckets hold, in the KMS key's description and alias (`s3/<name>-<purpose>s`)."
  type        = string
  default     = "backup"
}

variable "kms_allow_services" {
  description = "AWS service principals that may encrypt with the buckets' key for this account (module kms_key's allow_services)."
  type        = list(string)
  default     = []
}

variable "bucket_policy_documents" {
  description = "More bucket policy, by bucket purpose: IAM policy JSON merged with the TLS-only statement (a service's write access)."
  type        = map(string)
  default     = {}
}

variable "force_destroy" {
  description = "Whether destroy empties the buckets first (throw-away environments only)."
  type        = bool
  default     = false
}

variable "deny_insecure_transport" {
  description = "Whether the bucket policy denies requests not made over TLS. Only the emulator composition turns it off: moto evaluates the condition against its plain-HTTP endpoint and would deny every write."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
