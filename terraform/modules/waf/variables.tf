variable "name" {
  description = "Name of the web ACL (for example `titanic-prod`); also names its metrics and log group."
  type        = string
}

variable "rate_limit_per_5min" {
  description = "Requests one client IP may send in 5 minutes before it is blocked (WAF's minimum is 10)."
  type        = number

  validation {
    condition     = var.rate_limit_per_5min >= 10 && var.rate_limit_per_5min <= 2000000000
    error_message = "rate_limit_per_5min must be between 10 and 2000000000."
  }
}

variable "log_retention_days" {
  description = "Retention in days of the WAF log group (blocked and counted requests)."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
