// SPDX-License-Identifier: GPL-2.0
/* The control API's listening sockets (see listener.h). */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"

/* A socket file left by a dead agent is replaced; a live agent's is not. */
static int clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, err = 0;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (const struct sockaddr *)sun, sizeof(*sun)))
		err = -EADDRINUSE;
	else if (errno == ECONNREFUSED)
		err = unlink(path) ? -errno : 0;
	else
		err = -errno;
	close(fd);
	return err;
}

int listener_unix(const char *path, int *fdp, const char **why)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *copy;
	mode_t old;
	int fd, err;

	*why = "--api-socket";
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	/* The default lives under /run, which may not have it yet. */
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	if (mkdir(dirname(copy), 0755) && errno != EEXIST)
		log_warn("api: cannot create the directory of %s: %s", path,
			 strerror(errno));
	free(copy);
	err = clear_stale(path, &sun);
	if (err) {
		*why = err == -EADDRINUSE ? "--api-socket: another agent serves it" :
		       err == -EEXIST ? "--api-socket: not a socket, left alone" :
		       "--api-socket";
		return err;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Created 0660 from the start: no window with a wider mode. */
	old = umask(0117);
	err = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ? -errno : 0;
	umask(old);
	if (!err && listen(fd, SOMAXCONN)) {
		err = -errno;
		unlink(path);
	}
	if (err) {
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

int listener_tcp(const struct sockaddr_storage *ss, socklen_t len, int *fdp,
		 const char **why)
{
	int fd, err, one = 1;

	*why = "--api-listen";
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	err = bind(fd, (const struct sockaddr *)ss, len) ? -errno : 0;
	if (!err && listen(fd, SOMAXCONN))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}
