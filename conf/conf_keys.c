/*
 * Every key ferry understands.  conf/ferry.ini.example documents each one;
 * tests/unit/test_conf.c checks that the two stay in step.
 */
#include "conf/conf.h"

const char *const conf_sections[] = {
	"server", "project", "deploy", "backup", "offsite", "postgres", "redis",
	"minio", "neo4j", "group.*", "schedule", "notify", "log", "logs",
	"files", NULL,
};

#define S CK_SECRET
#define F CK_FILEVAR

const struct conf_key conf_keys[] = {
	/* [server] */
	{ "server", "host", CT_STR, NULL, CK_REQUIRED, NULL,
	  "server name or address, or 'local' to run on this machine" },
	{ "server", "ssh_config", CT_STR, "~/.ssh/config, /etc/ssh/ssh_config",
	  0, NULL, "OpenSSH client config resolving host as ssh does: a file "
	  "(read alone, as ssh -F), or no" },
	{ "server", "port", CT_PORT, "22", 0, NULL, "SSH port" },
	{ "server", "user", CT_STR, NULL, 0, NULL,
	  "SSH user (default: the local user name)" },
	{ "server", "identity", CT_PATHS, NULL, CK_FILE, NULL,
	  "private key files to try after ssh-agent" },
	{ "server", "known_hosts", CT_PATH, "~/.ssh/known_hosts", 0, NULL,
	  "OpenSSH known_hosts file" },
	{ "server", "host_key_check", CT_ENUM, "strict", 0,
	  "strict|accept-new|off", "host key policy" },
	{ "server", "connect_timeout", CT_DURATION, "10s", 0, NULL,
	  "TCP connect and SSH handshake timeout" },
	{ "server", "keepalive", CT_DURATION, "15s", 0, NULL,
	  "SSH keepalive interval (0 disables)" },
	{ "server", "keepalive_count", CT_INT, "3", 0, "1..1000",
	  "unanswered keepalive intervals before the server counts as lost" },

	/* [project] */
	{ "project", "name", CT_STR, NULL, 0, NULL,
	  "project name (default: local_dir's folder name)" },
	{ "project", "local_dir", CT_PATH, ".", CK_DIR, NULL,
	  "the project's local tree" },
	{ "project", "remote_dir", CT_STR, NULL, 0, NULL,
	  "the project's directory on the server" },
	{ "project", "env_file", CT_PATH, NULL, 0, NULL,
	  "dotenv file whose variables ${VAR} may use" },

	/* [deploy] */
	{ "deploy", "exclude", CT_LIST, NULL, CK_REPEAT, NULL,
	  "more paths never sent nor deleted (gitignore patterns)" },
	{ "deploy", "ignore_file", CT_STR, ".deployignore", 0, NULL,
	  "gitignore-style file at the project root" },
	{ "deploy", "gitignore", CT_BOOL, "yes", 0, NULL,
	  "apply every .gitignore in the tree" },
	{ "deploy", "delete", CT_BOOL, "yes", 0, NULL,
	  "remove server files that are not in the local tree" },
	{ "deploy", "compress", CT_ENUM, "auto", 0, "auto|zstd|gzip|none",
	  "compression of the file stream" },
	{ "deploy", "compose", CT_STR, "auto", 0, NULL,
	  "compose command: auto (docker compose, else docker-compose) or a "
	  "command prefix" },
	{ "deploy", "compose_dir", CT_STR, ".", 0, NULL,
	  "where compose runs, relative to remote_dir" },
	{ "deploy", "compose_files", CT_LIST, NULL, 0, NULL,
	  "compose files (-f), relative to compose_dir" },
	{ "deploy", "project_name", CT_STR, NULL, 0, NULL,
	  "compose project name (-p)" },

	/* [backup] */
	{ "backup", "dir", CT_PATH, "~/.local/share/ferry/backups", 0, NULL,
	  "where archives are written" },
	{ "backup", "name", CT_STR, NULL, 0, NULL,
	  "archive name prefix (default: the project name)" },
	{ "backup", "compression_level", CT_INT, "3", 0, "1..22",
	  "zstd level" },
	{ "backup", "threads", CT_INT, "0", 0, "0..256",
	  "compression threads (0: all cores)" },
	{ "backup", "keep_last", CT_INT, "3", 0, "0..100000", "retention" },
	{ "backup", "keep_hourly", CT_INT, "0", 0, "0..100000", "retention" },
	{ "backup", "keep_daily", CT_INT, "7", 0, "0..100000", "retention" },
	{ "backup", "keep_weekly", CT_INT, "4", 0, "0..100000", "retention" },
	{ "backup", "keep_monthly", CT_INT, "6", 0, "0..100000", "retention" },
	{ "backup", "keep_yearly", CT_INT, "0", 0, "0..100000", "retention" },
	{ "backup", "prune_after_backup", CT_BOOL, "no", 0, NULL,
	  "prune after each successful backup" },

	/* [offsite] */
	{ "offsite", "url", CT_S3URL, NULL, 0, NULL,
	  "s3://bucket/prefix for off-site copies" },
	{ "offsite", "endpoint", CT_URL, NULL, 0, NULL,
	  "S3 endpoint (reached directly, not through the server)" },
	{ "offsite", "access_key", CT_STR, NULL, S | F, NULL, "access key id" },
	{ "offsite", "secret_key", CT_STR, NULL, S | F, NULL, "secret key" },
	{ "offsite", "region", CT_STR, "us-east-1", 0, NULL, "SigV4 region" },
	{ "offsite", "keep_last", CT_INT, "3", 0, "0..100000", "retention" },
	{ "offsite", "keep_hourly", CT_INT, "0", 0, "0..100000", "retention" },
	{ "offsite", "keep_daily", CT_INT, "7", 0, "0..100000", "retention" },
	{ "offsite", "keep_weekly", CT_INT, "4", 0, "0..100000", "retention" },
	{ "offsite", "keep_monthly", CT_INT, "6", 0, "0..100000", "retention" },
	{ "offsite", "keep_yearly", CT_INT, "0", 0, "0..100000", "retention" },
	{ "offsite", "encrypt_key_file", CT_PATH, NULL, CK_FILE, NULL,
	  "32-byte key: encrypt off-site copies client-side" },

	/* [postgres] */
	{ "postgres", "host", CT_STR, "127.0.0.1", 0, NULL,
	  "host as the server sees it" },
	{ "postgres", "port", CT_PORT, "5432", 0, NULL, "port" },
	{ "postgres", "user", CT_STR, "postgres", 0, NULL, "role" },
	{ "postgres", "password", CT_STR, NULL, S | F, NULL, "password" },
	{ "postgres", "databases", CT_LIST, "all", 0, NULL,
	  "databases to back up, or 'all'" },
	{ "postgres", "tunnel", CT_BOOL, NULL, 0, NULL,
	  "reach host:port through SSH (default: yes unless host = local)" },
	{ "postgres", "jobs", CT_INT, "2", 0, "1..64",
	  "parallel connections (unset: 1 for a backup on the server path "
	  "to a server of under 4 cores; 8 at most copy on the server)" },
	{ "postgres", "owners", CT_BOOL, "yes", 0, NULL,
	  "back up and restore ownership and grants" },
	{ "postgres", "include_passwords", CT_BOOL, "no", 0, NULL,
	  "put role password hashes into globals.sql" },
	{ "postgres", "lock_timeout", CT_DURATION, "30s", 0, NULL,
	  "how long to wait for a table lock before failing" },
	{ "postgres", "transfer", CT_ENUM, "auto", 0, "auto|tunnel|server",
	  "COPY data through the tunnel, or by psql on the server, compressed" },

	/* [redis] */
	{ "redis", "host", CT_STR, "127.0.0.1", 0, NULL,
	  "host as the server sees it" },
	{ "redis", "port", CT_PORT, "6379", 0, NULL, "port" },
	{ "redis", "password", CT_STR, NULL, S | F, NULL, "AUTH password" },
	{ "redis", "transfer", CT_ENUM, "auto", 0, "auto|tunnel|server",
	  "the RDB through the tunnel, or by redis-cli on the server, "
	  "compressed" },

	/* [minio] */
	{ "minio", "endpoint", CT_URL, "http://127.0.0.1:9000", 0, NULL,
	  "S3 endpoint as the server sees it" },
	{ "minio", "access_key", CT_STR, NULL, S | F, NULL, "access key id" },
	{ "minio", "secret_key", CT_STR, NULL, S | F, NULL, "secret key" },
	{ "minio", "region", CT_STR, "us-east-1", 0, NULL, "SigV4 region" },
	{ "minio", "buckets", CT_LIST, "all", 0, NULL,
	  "buckets to back up, or 'all'" },
	{ "minio", "jobs", CT_INT, "8", 0, "1..64",
	  "objects transferred at once" },

	/* [neo4j] */
	{ "neo4j", "url", CT_URL, "http://127.0.0.1:7474", 0, NULL,
	  "HTTP API URL as the server sees it" },
	{ "neo4j", "user", CT_STR, "neo4j", 0, NULL, "user" },
	{ "neo4j", "password", CT_STR, NULL, S | F, NULL, "password" },
	{ "neo4j", "database", CT_STR, "neo4j", 0, NULL, "database" },
	{ "neo4j", "mode", CT_ENUM, "cypher", 0, "cypher|dump",
	  "online export or offline dump" },
	{ "neo4j", "service", CT_STR, "neo4j", 0, NULL,
	  "compose service running Neo4j" },
	{ "neo4j", "databases", CT_LIST, NULL, 0, NULL,
	  "databases to back up (default: database); dump mode adds system" },
	{ "neo4j", "page_size", CT_INT, "10000", 0, "1..1000000",
	  "node or relationship ids per export request (cypher mode)" },
	{ "neo4j", "batch_size", CT_INT, "1000", 0, "1..100000",
	  "rows per restore transaction (cypher mode)" },
	{ "neo4j", "timeout", CT_DURATION, "2m", 0, NULL,
	  "one HTTP request; in dump mode, the longest silence of neo4j-admin" },
	{ "neo4j", "compress", CT_ENUM, "auto", 0, "auto|zstd|gzip|none",
	  "dump streams compressed on the server before the wire" },

	/* [deploy]: compose on the server (the deploy operations issue) */
	{ "deploy", "require", CT_LIST, NULL, 0, NULL,
	  "server files (relative to remote_dir) a deploy needs before compose runs" },
	{ "deploy", "health_url", CT_URL, NULL, CK_REPEAT, NULL,
	  "URL (as the server sees it) that must answer 2xx after up; may repeat" },
	{ "deploy", "health_timeout", CT_DURATION, "120s", 0, NULL,
	  "how long the health gate waits" },
	{ "deploy", "health_interval", CT_DURATION, "2s", 0, NULL,
	  "how often the health gate looks" },
	{ "deploy", "lock_stale", CT_DURATION, "30m", 0, NULL,
	  "age after which another host's deploy lock is reported as stale" },

	/* [group.NAME]: deploy --type NAME */
	{ "group.*", "services", CT_LIST, NULL, 0, NULL,
	  "compose services of this group (deploy --type NAME)" },

	/* [schedule] */
	{ "schedule", "backup", CT_CRON, NULL, 0, NULL,
	  "when ferry daemon (or cron) backs up: a cron expression" },
	{ "schedule", "prune", CT_CRON, NULL, 0, "after-backup",
	  "when to prune: after-backup or a cron expression" },
	{ "schedule", "verify", CT_CRON, NULL, 0, NULL,
	  "when to verify the newest archive: a cron expression" },
	{ "schedule", "max_age", CT_DURATION, NULL, 0, NULL,
	  "ferry status fails when the newest good backup is older "
	  "(default: twice the backup interval)" },

	/* [notify] */
	{ "notify", "ping_url", CT_URL, NULL, S | F, NULL,
	  "healthchecks.io-style URL: URL/start, URL, URL/fail" },
	{ "notify", "webhook_url", CT_URL, NULL, S | F, NULL,
	  "URL that gets each run's result as a JSON POST" },
	{ "notify", "on", CT_ENUM, "always", 0, "failure|always",
	  "notify on every run, or only when one fails" },
	{ "notify", "timeout", CT_DURATION, "10s", 0, NULL,
	  "one notification request's time limit (3 tries)" },
	{ "notify", "metrics_file", CT_PATH, NULL, 0, NULL,
	  "Prometheus text file rewritten after each run" },

	/* [log] */
	{ "log", "format", CT_ENUM, "text", 0, "text|json",
	  "stderr lines as text or JSON (--log-format overrides)" },
	{ "log", "syslog", CT_BOOL, "no", 0, NULL,
	  "send every log line to syslog too" },

	/* [redis], continued */
	{ "redis", "user", CT_STR, NULL, 0, NULL,
	  "ACL user for AUTH (default: the default user)" },
	{ "redis", "timeout", CT_DURATION, "60s", 0, NULL,
	  "longest wait for the next byte of a snapshot" },
	{ "redis", "service", CT_STR, "redis", 0, NULL,
	  "compose service running Redis (a restore stops and starts it)" },
	{ "redis", "data_dir", CT_STR, NULL, 0, NULL,
	  "Redis' data directory as the server's files see it (default: "
	  "CONFIG GET dir, through the container's mounts)" },

	/* [logs] */
	{ "logs", "services", CT_LIST, "all", 0, NULL,
	  "compose services whose logs are kept, 'all' or 'none'" },
	{ "logs", "files", CT_LIST, NULL, 0, NULL,
	  "log files on the server (globs), read over SFTP" },
	{ "logs", "max_bytes", CT_INT, "67108864", 0, "0..1099511627776",
	  "newest bytes kept per service or file (0: everything)" },

	/* [files] */
	{ "files", "paths", CT_LIST, NULL, 0, NULL,
	  "server files to keep (globs, relative to remote_dir or absolute)" },
};

const size_t conf_nkeys = sizeof(conf_keys) / sizeof(conf_keys[0]);
