# Installs auditree like a system daemon and packages it as a .deb:
#   cmake --install build            binary in sbin, config in /etc/auditree,
#                                    systemd unit, auditree(8)
#   (cd build && cpack -G DEB)       the same as a Debian package
# The config directory is absolute (AUDITREE_CONFIG_DIR, /etc/auditree):
# the binary reads it wherever it is installed.

set(AUDITREE_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
  "where the systemd unit goes, relative to the install prefix")

install(TARGETS auditree RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES config/auditree.conf config/audit.rules
  DESTINATION ${AUDITREE_CONFIG_DIR})

# The unit and the auditd plugin file name the binary's path, which is known
# only at install time (cpack installs under its own prefix).
set(auditree_staged "${PROJECT_BINARY_DIR}/install-staged")
install(CODE "
  set(AUDITREE_SBINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/config/auditree.service\"
    \"${auditree_staged}/auditree.service\" @ONLY)
  configure_file(\"${PROJECT_SOURCE_DIR}/config/auditd-plugin.conf\"
    \"${auditree_staged}/auditd-plugin.conf\" @ONLY)
")
install(FILES ${auditree_staged}/auditree.service
  DESTINATION ${AUDITREE_SYSTEMD_UNIT_DIR})
install(FILES ${auditree_staged}/auditd-plugin.conf README.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

# auditree(8), compressed as Debian's policy asks.
find_program(GZIP_PROGRAM gzip REQUIRED)
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/auditree.8.gz
  COMMAND ${GZIP_PROGRAM} -9nc ${PROJECT_SOURCE_DIR}/man/auditree.8
          > ${PROJECT_BINARY_DIR}/auditree.8.gz
  DEPENDS man/auditree.8 VERBATIM)
add_custom_target(man_page ALL DEPENDS ${PROJECT_BINARY_DIR}/auditree.8.gz)
install(FILES ${PROJECT_BINARY_DIR}/auditree.8.gz
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

# -- cpack -G DEB ------------------------------------------------------------

configure_file(packaging/deb/conffiles.in
  ${PROJECT_BINARY_DIR}/deb/conffiles @ONLY)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME auditree)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "auditree maintainers <auditree@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "live process tree of the host and its containers from kernel audit")
# The first line of Description is the summary; CPack indents the rest.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "auditree listens to the Linux kernel's audit subsystem and keeps an exact
process tree of the host and of every container on it: what runs where,
who started it, what it executed. It writes one ECS JSON line per process
event and answers queries on a unix socket (auditree tree, ps, stats).")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Depends from the libraries the binary links (dpkg-shlibdeps, dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_SOURCE_DIR}/cmake/cpack_checks.cmake)
# Installed at /usr, whatever CMAKE_INSTALL_PREFIX says.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The binary without its debug info: 13 MB of package instead of 1 MB.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_BINARY_DIR}/deb/conffiles
  ${PROJECT_SOURCE_DIR}/packaging/deb/postinst
  ${PROJECT_SOURCE_DIR}/packaging/deb/prerm
  ${PROJECT_SOURCE_DIR}/packaging/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
