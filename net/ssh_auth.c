/*
 * Public key authentication: ssh-agent first, then identity files (their
 * passphrase from FERRY_SSH_PASSPHRASE, never from argv or the config).
 */
#include "net/ssh_internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

static int try_agent(struct ssh *s, const char *user, struct buf *tried)
{
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	LIBSSH2_AGENT *agent;
	int ok = 0, n = 0;

	if (!getenv("SSH_AUTH_SOCK"))
		return 0;
	agent = libssh2_agent_init(s->session);
	if (!agent)
		return 0;
	if (libssh2_agent_connect(agent) || libssh2_agent_list_identities(agent)) {
		log_verbose("ssh-agent: %s", ssh_errmsg(s));
		goto out;
	}
	while (!ok && libssh2_agent_get_identity(agent, &id, prev) == 0) {
		n++;
		if (libssh2_agent_userauth(agent, user, id) == 0) {
			ok = 1;
			log_verbose("authenticated with agent key %s", id->comment);
		}
		prev = id;
	}
	buf_printf(tried, "%sssh-agent (%d key%s)", tried->len ? ", " : "", n,
		   n == 1 ? "" : "s");
	libssh2_agent_disconnect(agent);
out:
	libssh2_agent_free(agent);
	return ok;
}

/*
 * 1 when the key file is passphrase-protected, so a failure can say what
 * to do instead of libssh2's "unable to extract public key".  PEM keys
 * say ENCRYPTED in their header; OpenSSH's own format names its cipher
 * right after the magic ("none" when the key is in the clear), in the
 * first 48 bytes of its base64 body.
 */
static int key_encrypted(const char *path)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	static const char magic[] = "openssh-key-v1";	/* and its NUL */
	char text[4096], b64[65];
	unsigned char raw[49];
	const char *p;
	size_t n, k = 0;
	int r = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (strstr(text, "ENCRYPTED")) {
		r = 1;
	} else if ((p = strstr(text, begin))) {
		for (p += sizeof(begin) - 1; *p && k < 64; p++)
			if (*p != '\n' && *p != '\r')
				b64[k++] = *p;
		b64[k] = '\0';
		if (k == 64 && EVP_DecodeBlock(raw, (unsigned char *)b64, 64) == 48 &&
		    !memcmp(raw, magic, sizeof(magic))) {
			uint32_t len = (uint32_t)raw[15] << 24 | (uint32_t)raw[16] << 16 |
				(uint32_t)raw[17] << 8 | raw[18];

			r = !(len == 4 && !memcmp(raw + 19, "none", 4));
		}
	}
	explicit_bzero(text, sizeof(text));
	explicit_bzero(b64, sizeof(b64));
	explicit_bzero(raw, sizeof(raw));
	return r;
}

static int try_file(struct ssh *s, const char *user, const char *path,
		    int configured, struct buf *tried)
{
	const char *pass = getenv("FERRY_SSH_PASSPHRASE");

	if (access(path, R_OK) != 0) {
		if (configured)
			log_warn("identity %s: cannot read it", path);
		return 0;
	}
	buf_printf(tried, "%s%s", tried->len ? ", " : "", path);
	if ((!pass || !*pass) && key_encrypted(path)) {
		/* Without a passphrase it cannot work: say how to give one. */
		log_verbose("identity %s: passphrase-protected", path);
		buf_addstr(tried, " (passphrase-protected: set FERRY_SSH_PASSPHRASE "
			   "or add the key to ssh-agent)");
		return 0;
	}
	if (libssh2_userauth_publickey_fromfile_ex(s->session, user,
			(unsigned)strlen(user), NULL, path, pass ? pass : "") == 0) {
		log_verbose("authenticated with %s", path);
		return 1;
	}
	log_verbose("identity %s: %s", path, ssh_errmsg(s));
	/* LIBSSH2_ERROR_FILE: the key could not be decrypted (a key the
	 * server refuses fails otherwise). */
	if (pass && *pass && libssh2_session_last_errno(s->session) ==
	    LIBSSH2_ERROR_FILE && key_encrypted(path))
		buf_printf(tried, " (%s; is FERRY_SSH_PASSPHRASE right?)",
			   ssh_errmsg(s));
	else
		buf_printf(tried, " (%s)", ssh_errmsg(s));
	return 0;
}

int ssh_auth(struct ssh *s, const struct ssh_opts *o, struct err *e)
{
	static const char *const defaults[] = {
		"id_ed25519", "id_ecdsa", "id_rsa",
	};
	struct buf tried = BUF_INIT;
	const char *home = getenv("HOME");
	char *methods;
	int ok = 0;

	methods = libssh2_userauth_list(s->session, o->user,
					(unsigned)strlen(o->user));
	if (!methods && libssh2_userauth_authenticated(s->session))
		return 0;
	if (methods && !strstr(methods, "publickey"))
		return err_set(e, FX_CONN, "ssh %s: server does not accept public "
			       "keys (offers: %s)", s->name, methods);
	ok = try_agent(s, o->user, &tried);
	for (size_t i = 0; !ok && o->identities && i < o->identities->n; i++)
		ok = try_file(s, o->user, o->identities->v[i], 1, &tried);
	if (!ok && (!o->identities || o->identities->n == 0) && home) {
		for (size_t i = 0; !ok && i < sizeof(defaults) / sizeof(*defaults);
		     i++) {
			char *p = xstrfmt("%s/.ssh/%s", home, defaults[i]);

			ok = try_file(s, o->user, p, 0, &tried);
			free(p);
		}
	}
	if (!ok)
		err_set(e, FX_CONN, "ssh %s: authentication failed (tried: %s)",
			s->name, tried.len ? buf_str(&tried) : "no keys found");
	buf_release(&tried);
	return ok ? 0 : -1;
}
