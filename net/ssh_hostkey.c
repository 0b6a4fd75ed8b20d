/*
 * Host key verification against an OpenSSH known_hosts file: plain and
 * hashed names, [host]:port, ed25519/ecdsa/rsa.  Runs after the key
 * exchange and before any credential is offered.
 */
#include "net/ssh_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
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

/* Reads one known_hosts file into kh line by line, skipping lines libssh2
 * cannot parse (certificates, markers, security-key types) instead of
 * failing on them. */
static void read_known(LIBSSH2_KNOWNHOSTS *kh, const char *path, int *missing)
{
	char line[16384];
	FILE *f;

	*missing = 0;
	f = fopen(path, "re");
	if (!f) {
		*missing = errno == ENOENT;
		return;
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
}

/* Every file o names, in one collection: ssh consults them all (the user
 * files, then the global ones) and writes to the first only.  *missing:
 * the first does not exist. */
static LIBSSH2_KNOWNHOSTS *load_known(LIBSSH2_SESSION *session,
				      const struct ssh_opts *o, int *missing)
{
	LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(session);
	int other;

	*missing = 0;
	if (!kh)
		return NULL;
	if (o->known_hosts)
		read_known(kh, o->known_hosts, missing);
	for (size_t i = 0; o->known_hosts_also && i < o->known_hosts_also->n;
	     i++)
		read_known(kh, o->known_hosts_also->v[i], &other);
	return kh;
}

/* The name the key is filed under, as OpenSSH files it: HostKeyAlias as
 * it is, else host on port 22, else [host]:port and nothing else.
 * libssh2's own port handling would also accept a plain-host entry for
 * another port, so it is never given one. */
static void known_name(const struct ssh_opts *o, char *name, size_t size)
{
	if (o->host_key_alias)
		snprintf(name, size, "%s", o->host_key_alias);
	else if (o->port == 22)
		snprintf(name, size, "%s", o->host);
	else
		snprintf(name, size, "[%s]:%d", o->host, o->port);
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
	char kname[300];
	int missing, rc;

	if (o->policy == HK_OFF)
		return DEFAULT_ORDER;
	tmp = libssh2_session_init();
	if (!tmp)
		return DEFAULT_ORDER;
	kh = load_known(tmp, o, &missing);
	known_name(o, kname, sizeof(kname));
	if (kh) {
		/* Key type 0 matches any type; a dummy key then "mismatches"
		 * and hands back the first entry naming this host. */
		rc = libssh2_knownhost_checkp(kh, kname, -1, "ferry", 5,
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

/* "FILE:LINE" of the entry holding key (base64) in any of o's files, for
 * the mismatch message. */
static char *where_is(const struct ssh_opts *o, const char *key)
{
	const char *first = o->known_hosts;
	size_t n = o->known_hosts_also ? o->known_hosts_also->n : 0;

	for (size_t i = 0; key && *key && i <= n; i++) {
		const char *path = i == 0 ? first : o->known_hosts_also->v[i - 1];
		char line[16384];
		FILE *f = path ? fopen(path, "re") : NULL;
		int no = 0;

		while (f && fgets(line, sizeof(line), f)) {
			no++;
			if (strstr(line, key)) {
				fclose(f);
				return xstrfmt("%s:%d", path, no);
			}
		}
		if (f)
			fclose(f);
	}
	return xstrdup(first ? first : "known_hosts");
}

static void base64(const unsigned char *in, int n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, n);
}

/* The entry as ssh writes it: the name plain, or hashed (HashKnownHosts:
 * |1|salt|HMAC-SHA1(salt, name), both base64). */
static int add_entry(LIBSSH2_KNOWNHOSTS *kh, const struct ssh_opts *o,
		     const char *name, const char *key, size_t keylen,
		     int known_type, struct libssh2_knownhost **node)
{
	unsigned char salt[20], mac[EVP_MAX_MD_SIZE];
	char salt64[64], mac64[64];
	unsigned int maclen = 0;

	if (!o->hash_known_hosts)
		return libssh2_knownhost_addc(kh, name, NULL, key, keylen,
			NULL, 0, LIBSSH2_KNOWNHOST_TYPE_PLAIN |
			LIBSSH2_KNOWNHOST_KEYENC_RAW | known_type, node);
	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    !HMAC(EVP_sha1(), salt, sizeof(salt), (const unsigned char *)name,
		  strlen(name), mac, &maclen))
		return -1;
	base64(salt, sizeof(salt), salt64);
	base64(mac, (int)maclen, mac64);
	return libssh2_knownhost_addc(kh, mac64, salt64, key, keylen, NULL, 0,
		LIBSSH2_KNOWNHOST_TYPE_SHA1 | LIBSSH2_KNOWNHOST_KEYENC_RAW |
		known_type, node);
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

	known_name(o, name, sizeof(name));
	rc = add_entry(kh, o, name, key, keylen, known_type, &node);
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

/* A key not found anywhere: accepted and recorded under accept-new. */
static int new_key(struct ssh *s, LIBSSH2_KNOWNHOSTS *kh,
		   const struct ssh_opts *o, const char *key, size_t keylen,
		   int known_type, const char *label, const char *fp,
		   int missing, struct err *e)
{
	const char *alias = o->host_key_alias;

	if (o->policy != HK_ACCEPT_NEW)
		return err_set(e, FX_CONN, "unknown host key for %s:%d%s%s: %s "
			       "%s is not in %s%s (check the fingerprint, then "
			       "add it, or set %s)",
			       o->host, o->port, alias ? " as " : "",
			       alias ? alias : "", label, fp,
			       o->known_hosts ? o->known_hosts :
			       "any known_hosts file (UserKnownHostsFile is none)",
			       missing ? ", which does not exist" : "",
			       o->hop ? "StrictHostKeyChecking accept-new for "
			       "this jump host in ssh_config" :
			       "host_key_check = accept-new");
	if (!o->known_hosts) {
		log_warn("accepting %s key %s of %s:%d without recording it: "
			 "UserKnownHostsFile is none", label, fp, o->host,
			 o->port);
		return 0;
	}
	if (append_known(s, kh, o, key, keylen, known_type, e) < 0)
		return -1;
	log_warn("added %s key %s of %s:%d to %s", label, fp, o->host, o->port,
		 o->known_hosts);
	return 0;
}

int ssh_hostkey_verify(struct ssh *s, const struct ssh_opts *o, struct err *e)
{
	struct libssh2_knownhost *found = NULL;
	LIBSSH2_KNOWNHOSTS *kh = NULL;
	const char *key, *label = "UNKNOWN";
	char fp[80], *where, name[300];
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
	kh = load_known(s->session, o, &missing);
	if (!kh)
		return err_set(e, FX_CONN, "%s: cannot read", o->known_hosts ?
			       o->known_hosts : "known_hosts");
	known_name(o, name, sizeof(name));
	rc = libssh2_knownhost_checkp(kh, name, -1, key, keylen,
		LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
		known_type, &found);
	switch (rc) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		where = where_is(o, found ? found->key : NULL);
		r = err_set(e, FX_CONN, "host key for %s:%d%s%s has changed: "
			    "server offered %s key %s, but %s has a different "
			    "key (possible man-in-the-middle attack; remove that "
			    "line if the change is expected)", o->host, o->port,
			    o->host_key_alias ? " as " : "",
			    o->host_key_alias ? o->host_key_alias : "", label,
			    fp, where);
		free(where);
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		r = new_key(s, kh, o, key, keylen, known_type, label, fp,
			    missing, e);
		break;
	default:
		r = err_set(e, FX_CONN, "host key check for %s:%d failed: %s",
			    o->host, o->port, ssh_errmsg(s));
	}
	libssh2_knownhost_free(kh);
	return r;
}
