output "role_name" {
  description = "Name of the IAM role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the IAM role (annotate the service account with it: `eks.amazonaws.com/role-arn`)."
  value       = aws_iam_role.this.arn
}

output "service_accounts" {
  description = "Service accounts trusted by the role, as `namespace:name`."
  value       = var.namespace_service_accounts
}
