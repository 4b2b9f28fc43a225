# packaging/packaging.mk - Debian and RPM packages; included by the top
# Makefile.
#
#   make deb              $(PKG_O)/deb/{sipcache,libnss-sipcache}_*.deb
#   make rpm              $(PKG_O)/rpm/RPMS/ARCH/{sipcache,nss-sipcache}-*.rpm
#   make check-packaging  build both, then test them (as root): file lists
#                         against the Contract, lintian, the maintainer
#                         scripts, install/remove/purge in a private world
#
# Both build from a copy of the tree (packaging/mktree) in $(PKG_O), so
# that the source root never gets a debian/ or rpmbuild's files and no
# object of another build (O=, SAN=) ends up in a package.  The Debian
# packages and tools they need are installed when missing (root), as
# `make deps' does.  PKG_NOCHECK=0 runs the unit tests inside the package
# builds too (dh_auto_test, %check); by default they do not repeat what
# `make check' runs in three builds.

PKG_O ?= build/pkg
PKG_NOCHECK ?= 1

deb:
	@packaging/deps deb
	PKG_NOCHECK=$(PKG_NOCHECK) packaging/build-deb $(PKG_O)/deb

rpm:
	@packaging/deps rpm
	PKG_NOCHECK=$(PKG_NOCHECK) packaging/build-rpm $(PKG_O)/rpm

# One build of each, one after the other (apt-get and the two builds must
# not race), then every packaging/tests/test_*.sh through the integration
# runner: time bound, PASS/FAIL/SKIP, logs kept on failure.
check-packaging:
	@packaging/deps check
	PKG_NOCHECK=$(PKG_NOCHECK) packaging/build-deb $(PKG_O)/deb
	PKG_NOCHECK=$(PKG_NOCHECK) packaging/build-rpm $(PKG_O)/rpm
	SIPCACHE_PKG_DIR=$(abspath $(PKG_O)) tests/run-integration \
		$(sort $(wildcard packaging/tests/test_*.sh))

.PHONY: deb rpm check-packaging
