"""``GET info`` (version, features, limits) and the OpenAPI contract."""
