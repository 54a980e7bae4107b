/* An SSH Ed25519 key pair from a 32-byte seed (e.g. a secret_derive()
 * output), in the formats sshd and ssh-keygen read. Same seed, same
 * bytes: a node rebuilt from the same cluster secret keeps its host key. */
#ifndef PXEFORGE_SSHKEY_H
#define PXEFORGE_SSHKEY_H

/* *private_text: the OpenSSH private key file (openssh-key-v1, cipher and
 * kdf "none", PEM-style armour, base64 lines of 70 characters, trailing
 * newline). *public_line: "ssh-ed25519 BASE64 COMMENT", no newline (no
 * trailing space when comment is ""). Both malloc'd; the caller frees
 * them and should wipe *private_text first (secret_wipe). On failure both
 * are NULL. 0, -EINVAL (NULL argument, comment with '\n' or '\r'),
 * -ENOMEM, -EIO (OpenSSL failure). */
int sshkey_ed25519(const unsigned char seed[32], const char *comment,
		   char **private_text, char **public_line);

#endif
