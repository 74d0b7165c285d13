"""Cases shared by the tests of every host: request targets that try to
reach the private /rest/task without a cookie (dot segments, encoded and
doubled slashes, encoded dots, matrix parameters, fragments, queries and
absolute-form targets)."""

PATH_TRICKS = [
    "/rpc/login/../../rest/task",
    "/rpc/login/%2e%2e/%2e%2e/rest/task",
    "//rest/task",
    "/rest//task",
    "/rest/%2Ftask",
    "/rest/%2e%2e/rest/task",
    "/rest/%252e%252e/task",
    "/rest/./task",
    "/rpc/login;/../../rest/task",
    "/rpc/login%2F..%2F..%2Frest%2Ftask",
    "/rpc/login#/../rest/task",
    "/rpc/login?/../rest/task",
    "http://evil.example/rest/task",
]
