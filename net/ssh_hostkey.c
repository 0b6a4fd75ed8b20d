/*
 * Host key verification against an OpenSSH known_hosts file: plain and
 * hashed names, [host]:port, ed25519/ecdsa/rsa.  Runs after the key
 * exchange and before any credential is offered.
 */
#include "net/ssh_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/log.h"

static const struct {
	int hostkey;		/* LIBSSH2_HOSTKEY_TYPE_* */
	int known;		/* LIBSSH2_KNOWNHOST_KEY_* */
	const char *label;
	const char *methods;
} key_types[] = {
	{ LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519,
	  "ED25519", "ssh-ed25519" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
	  "ECDSA", "ecdsa-sha2-nistp256" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
	  "ECDSA", "ecdsa-sha2-nistp384" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
	  "ECDSA", "ecdsa-sha2-nistp521" },
	{ LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA,
	  "RSA", "rsa-sha2-512,rsa-sha2-256,ssh-rsa" },
};

#define NTYPES (sizeof(key_types) / sizeof(key_types[0]))
#define DEFAULT_ORDER "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
	"ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256,ssh-rsa"

/* Reads known_hosts line by line, skipping lines libssh2 cannot parse
 * (certificates, markers, security-key types) instead of failing on them. */
static LIBSSH2_KNOWNHOSTS *load_known(LIBSSH2_SESSION *session,
				      const char *path, int *missing)
{
	LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(session);
	char line[16384];
	FILE *f;

	*missing = 0;
	if (!kh)
		return NULL;
	f = fopen(path, "re");
	if (!f) {
		*missing = errno == ENOENT;
		return kh;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		if (line[0] == '#' || line[0] == '\n' || line[0] == '@')
			continue;
		if (libssh2_knownhost_readline(kh, line, n,
				LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0)
			log_debug("%s: skipped a line libssh2 cannot read", path);
	}
	fclose(f);
	return kh;
}

/* Offer first the key type known_hosts already has for this host, as
 * OpenSSH does, so a host known by its RSA key is not "unknown" because
 * the server prefers ed25519. */
const char *ssh_hostkey_prefs(const struct ssh_opts *o)
{
	static __thread char prefs[512];
	LIBSSH2_SESSION *tmp;
	LIBSSH2_KNOWNHOSTS *kh;
	struct libssh2_knownhost *found = NULL;
	const char *first = NULL;
	int missing, rc;

	if (o->policy == HK_OFF)
		return DEFAULT_ORDER;
	tmp = libssh2_session_init();
	if (!tmp)
		return DEFAULT_ORDER;
	kh = load_known(tmp, o->known_hosts, &missing);
	if (kh) {
		/* Key type 0 matches any type; a dummy key then "mismatches"
		 * and hands back the first entry naming this host. */
		rc = libssh2_knownhost_checkp(kh, o->host, o->port, "ferry", 5,
			LIBSSH2_KNOWNHOST_TYPE_PLAIN |
			LIBSSH2_KNOWNHOST_KEYENC_RAW, &found);
		if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH && found) {
			int t = found->typemask & LIBSSH2_KNOWNHOST_KEY_MASK;

			for (size_t i = 0; i < NTYPES; i++)
				if (key_types[i].known == t)
					first = key_types[i].methods;
		}
		libssh2_knownhost_free(kh);
	}
	libssh2_session_free(tmp);
	if (!first)
		return DEFAULT_ORDER;
	/* The known type first, then the others; libssh2 wants no repeats. */
	snprintf(prefs, sizeof(prefs), "%s", first);
	for (const char *p = DEFAULT_ORDER; *p;) {
		size_t n = strcspn(p, ",");
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		if (!strstr(first, name))
			snprintf(prefs + strlen(prefs), sizeof(prefs) - strlen(prefs),
				 ",%s", name);
		p += n + (p[n] == ',');
	}
	log_debug("host key preference: %s", prefs);
	return prefs;
}

static void fingerprint(struct ssh *s, char *out, size_t len)
{
	const unsigned char *h = (const unsigned char *)libssh2_hostkey_hash(
		s->session, LIBSSH2_HOSTKEY_HASH_SHA256);
	unsigned char b64[64];
	int n;

	if (!h) {
		snprintf(out, len, "SHA256:?");
		return;
	}
	n = EVP_EncodeBlock(b64, h, 32);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	snprintf(out, len, "SHA256:%.*s", n, b64);
}

/* Line number of the entry holding key (base64), for the mismatch message. */
static int line_of(const char *path, const char *key)
{
	char line[16384];
	FILE *f = fopen(path, "re");
	int n = 0, hit = 0;

	if (!f)
		return 0;
	while (!hit && fgets(line, sizeof(line), f)) {
		n++;
		if (key && *key && strstr(line, key))
			hit = n;
	}
	fclose(f);
	return hit;
}

static int append_known(struct ssh *s, LIBSSH2_KNOWNHOSTS *kh,
			const struct ssh_opts *o, const char *key, size_t keylen,
			int known_type, struct err *e)
{
	struct libssh2_knownhost *node = NULL;
	char name[300], line[16384];
	size_t outlen = 0;
	char *dir, *slash;
	int fd, rc;

	if (o->port == 22)
		snprintf(name, sizeof(name), "%s", o->host);
	else
		snprintf(name, sizeof(name), "[%s]:%d", o->host, o->port);
	rc = libssh2_knownhost_addc(kh, name, NULL, key, keylen, NULL, 0,
		LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
		known_type, &node);
	if (rc == 0)
		rc = libssh2_knownhost_writeline(kh, node, line, sizeof(line),
			&outlen, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	if (rc)
		return err_set(e, FX_CONN, "%s: cannot format the new entry: %s",
			       o->known_hosts, ssh_errmsg(s));
	dir = xstrdup(o->known_hosts);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			err_set(e, FX_CONN, "%s: cannot add host key: mkdir %s: %s",
				o->known_hosts, dir, strerror(errno));
			free(dir);
			return -1;
		}
	}
	free(dir);
	/* The entry is the trust decision for every later connection: it is
	 * written whole and durably, or the connection fails. */
	fd = open(o->known_hosts, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fd_write_all(fd, line, outlen) < 0 || fsync(fd) < 0) {
		err_set(e, FX_CONN, "%s: cannot add host key: %s", o->known_hosts,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return err_set(e, FX_CONN, "%s: cannot add host key: %s",
			       o->known_hosts, strerror(errno));
	return 0;
}

int ssh_hostkey_verify(struct ssh *s, const struct ssh_opts *o, struct err *e)
{
	struct libssh2_knownhost *found = NULL;
	LIBSSH2_KNOWNHOSTS *kh = NULL;
	const char *key, *label = "UNKNOWN";
	char fp[80];
	size_t keylen = 0;
	int type = 0, known_type = 0, missing = 0, rc, r = 0;

	key = libssh2_session_hostkey(s->session, &keylen, &type);
	if (!key)
		return err_set(e, FX_CONN, "ssh %s: no host key offered", s->name);
	for (size_t i = 0; i < NTYPES; i++) {
		if (key_types[i].hostkey == type) {
			label = key_types[i].label;
			known_type = key_types[i].known;
		}
	}
	fingerprint(s, fp, sizeof(fp));
	if (o->policy == HK_OFF) {
		log_warn("host key checking is off: accepting %s key %s of %s:%d "
			 "unverified", label, fp, o->host, o->port);
		return 0;
	}
	kh = load_known(s->session, o->known_hosts, &missing);
	if (!kh)
		return err_set(e, FX_CONN, "%s: cannot read", o->known_hosts);
	rc = libssh2_knownhost_checkp(kh, o->host, o->port, key, keylen,
		LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
		known_type, &found);
	switch (rc) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		r = err_set(e, FX_CONN, "host key for %s:%d has changed: server "
			    "offered %s key %s, but %s:%d has a different key "
			    "(possible man-in-the-middle attack; remove that line "
			    "if the change is expected)", o->host, o->port, label,
			    fp, o->known_hosts,
			    line_of(o->known_hosts, found ? found->key : NULL));
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		if (o->policy == HK_ACCEPT_NEW) {
			r = append_known(s, kh, o, key, keylen, known_type, e);
			if (r == 0)
				log_warn("added %s key %s of %s:%d to %s", label,
					 fp, o->host, o->port, o->known_hosts);
			break;
		}
		r = err_set(e, FX_CONN, "unknown host key for %s:%d: %s %s is "
			    "not in %s%s (check the fingerprint, then add it, or "
			    "set host_key_check = accept-new)", o->host, o->port,
			    label, fp, o->known_hosts, missing ? ", which does not "
			    "exist" : "");
		break;
	default:
		r = err_set(e, FX_CONN, "host key check for %s:%d failed: %s",
			    o->host, o->port, ssh_errmsg(s));
	}
	libssh2_knownhost_free(kh);
	return r;
}
