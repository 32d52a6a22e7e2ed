"""API base of the kernel: error shape, pagination, permissions, ticket endpoints, kernel resources."""
