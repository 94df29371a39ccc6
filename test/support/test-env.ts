// Tests read their own assertions, not the shop's request logs.
process.env.LOG_LEVEL ??= 'warn';
process.env.LOG_HTTP_REQUESTS ??= 'false';
// Suites fire bursts from one client on purpose (load shedding, parity); the rate limit tests set
// their own small limits.
process.env.FICUS_RATE_LIMIT_DEFAULT ??= '1000000/60s';
process.env.FICUS_RATE_LIMIT_ORDERS ??= '1000000/60s';
process.env.FICUS_RATE_LIMIT_IDENTITY ??= '1000000/60s';
// Roles belong to the whole test server and each one's password is derived from this secret: a
// process or a `ficus` command run without it would derive another from the admin password and
// reset a role (ficus_flags) that the tests running beside it are connected as.
process.env.FICUS_DB_ROLE_SECRET ??= 'ficus-test-role-secret';
