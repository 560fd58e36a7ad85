output "trail_arn" {
  description = "ARN of the trail."
  value       = aws_cloudtrail.this.arn
}

output "log_bucket_name" {
  description = "Bucket of the trail's log files and AWS Config's snapshots."
  value       = module.log_bucket.bucket_names["audit-logs"]
}

output "guardduty_detector_id" {
  description = "ID of the GuardDuty detector (null when enable_guardduty is false)."
  value       = one(aws_guardduty_detector.this[*].id)
}

output "config_rule_names" {
  description = "Names of the AWS Config rules (empty when enable_config is false)."
  value       = sort([for rule in aws_config_config_rule.this : rule.name])
}
