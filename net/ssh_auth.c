/*
 * Public key authentication: ssh-agent first, then identity files (their
 * passphrase from FERRY_SSH_PASSPHRASE, never from argv or the config).
 * ssh_config's IdentityAgent picks the agent (or none), IdentitiesOnly
 * limits it to the keys of the identity files, as ssh does.
 */
#include "net/ssh_internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* The public halves of the identities (FILE.pub), decoded, for
 * IdentitiesOnly. */
struct pubkeys {
	struct buf *v;
	size_t n;
};

static void pubkeys_add(struct pubkeys *p, const char *path)
{
	char *pub = xstrfmt("%s.pub", path), line[16384], *b64, *end;
	FILE *f = fopen(pub, "re");
	struct buf blob = BUF_INIT;
	int n, pad = 0;

	free(pub);
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f) || !(b64 = strchr(line, ' '))) {
		fclose(f);
		return;
	}
	fclose(f);
	b64++;
	end = b64 + strcspn(b64, " \t\r\n");
	*end = '\0';
	buf_grow(&blob, strlen(b64));
	n = EVP_DecodeBlock((unsigned char *)blob.p, (unsigned char *)b64,
			    (int)strlen(b64));
	for (char *q = end; q > b64 && q[-1] == '='; q--)
		pad++;
	if (n <= pad) {
		buf_release(&blob);
		return;
	}
	buf_setlen(&blob, (size_t)(n - pad));
	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n++] = blob;
}

static int pubkeys_have(const struct pubkeys *p,
			const struct libssh2_agent_publickey *id)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].len == id->blob_len &&
		    !memcmp(p->v[i].p, id->blob, id->blob_len))
			return 1;
	return 0;
}

/* *path: the agent's socket, NULL for $SSH_AUTH_SOCK; 0: no agent. */
static int agent_socket(const struct ssh_opts *o, const char **path)
{
	*path = NULL;
	if (o->identity_agent && !strcmp(o->identity_agent, "none"))
		return 0;
	if (o->identity_agent) {
		*path = o->identity_agent;
		return 1;
	}
	return getenv("SSH_AUTH_SOCK") != NULL;
}

static int try_agent(struct ssh *s, const struct ssh_opts *o,
		     const struct pubkeys *only, struct buf *tried)
{
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	const char *path;
	LIBSSH2_AGENT *agent;
	int ok = 0, n = 0, skipped = 0;

	if (!agent_socket(o, &path))
		return 0;
	agent = libssh2_agent_init(s->session);
	if (!agent)
		return 0;
	if (path)
		libssh2_agent_set_identity_path(agent, path);
	if (libssh2_agent_connect(agent) || libssh2_agent_list_identities(agent)) {
		log_verbose("ssh-agent%s%s: %s", path ? " " : "", path ? path : "",
			    ssh_errmsg(s));
		goto out;
	}
	while (!ok && libssh2_agent_get_identity(agent, &id, prev) == 0) {
		prev = id;
		if (only && !pubkeys_have(only, id)) {
			skipped++;	/* IdentitiesOnly */
			continue;
		}
		n++;
		if (libssh2_agent_userauth(agent, o->user, id) == 0) {
			ok = 1;
			log_verbose("authenticated with agent key %s", id->comment);
		}
	}
	buf_printf(tried, "%sssh-agent (%d key%s%s)", tried->len ? ", " : "", n,
		   n == 1 ? "" : "s", skipped ? "; others left out by "
		   "IdentitiesOnly" : "");
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
	const int configured = o->identities && o->identities->n > 0;
	struct pubkeys only = { NULL, 0 };
	struct strlist files = STRLIST_INIT;
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
	for (size_t i = 0; configured && i < o->identities->n; i++)
		strlist_add(&files, o->identities->v[i]);
	for (size_t i = 0; !configured && home && i < sizeof(defaults) /
	     sizeof(*defaults); i++)
		strlist_add_take(&files, xstrfmt("%s/.ssh/%s", home, defaults[i]));
	if (o->identities_only)
		for (size_t i = 0; i < files.n; i++)
			pubkeys_add(&only, files.v[i]);
	ok = try_agent(s, o, o->identities_only ? &only : NULL, &tried);
	for (size_t i = 0; !ok && i < files.n; i++)
		ok = try_file(s, o->user, files.v[i], configured, &tried);
	if (!ok)
		err_set(e, FX_CONN, "ssh %s: authentication failed (tried: %s)",
			s->name, tried.len ? buf_str(&tried) : "no keys found");
	for (size_t i = 0; i < only.n; i++)
		buf_release(&only.v[i]);
	free(only.v);
	strlist_release(&files);
	buf_release(&tried);
	return ok ? 0 : -1;
}
