variable "description" {
  description = "What the key protects."
  type        = string
}

variable "alias" {
  description = "Alias of the key without the `alias/` prefix; null for none."
  type        = string
  default     = null
}

variable "allow_cloudwatch_logs" {
  description = "Let CloudWatch Logs of this account and region use the key (for encrypted log groups)."
  type        = bool
  default     = false
}

variable "allow_services" {
  description = "AWS service principals (such as cloudtrail.amazonaws.com) that may encrypt with the key on behalf of this account only (aws:SourceAccount)."
  type        = list(string)
  default     = []
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled deletion of the key."
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags of the key."
  type        = map(string)
  default     = {}
}
