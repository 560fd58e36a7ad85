output "bucket_names" {
  description = "Bucket names by purpose."
  value       = { for k, b in aws_s3_bucket.this : k => b.id }
}

output "bucket_arns" {
  description = "Bucket ARNs by purpose."
  value       = { for k, b in aws_s3_bucket.this : k => b.arn }
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the buckets."
  value       = module.kms.key_arn
}
