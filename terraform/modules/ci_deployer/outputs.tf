output "role_name" {
  description = "Name of the IAM role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the role (the workflows' role-to-assume). Built from the name, so that it is known at plan time and still orders what uses it after the role (an EKS access entry needs its principal to exist)."
  value       = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/${aws_iam_role.this.name}"
}

output "oidc_provider_arn" {
  description = "ARN of the account's OIDC provider for GitHub Actions (created here or not)."
  value       = local.oidc_provider_arn
}

output "subject" {
  description = "The only token subject the role trusts."
  value       = local.subject
}
