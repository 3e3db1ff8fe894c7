// Certificates for the test control plane, made with the openssl command-line tool.
//
// One CA signs the API server's serving certificate and every client certificate. Kubernetes reads a client
// certificate's CN as the user name and each O as a group, so minting a user is signing a certificate.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface ClientCertificate {
  certPem: string;
  keyPem: string;
}

/** Creates ca.crt and ca.key in `dir`. */
export async function createCertificateAuthority(dir: string): Promise<void> {
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    path.join(dir, "ca.key"),
    "-out",
    path.join(dir, "ca.crt"),
    "-days",
    "3650",
    "-subj",
    "/CN=tenant-operator-test-ca",
  ]);
}

/** Creates `<name>.crt` and `<name>.key` in `dir`: a serving certificate for 127.0.0.1 and localhost. */
export async function createServingCertificate(dir: string, name: string): Promise<void> {
  const extensions = [
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc",
    "extendedKeyUsage=serverAuth",
    "keyUsage=digitalSignature,keyEncipherment",
  ].join("\n");
  await signCertificate(dir, name, "/CN=" + name, extensions);
}

/**
 * Signs a client certificate for `user` with `groups` as its organizations. Throws when a name holds a
 * character that openssl's subject syntax would misread.
 */
export async function createClientCertificate(
  dir: string,
  user: string,
  groups: readonly string[] = [],
): Promise<ClientCertificate> {
  for (const name of [user, ...groups]) {
    if (!/^[A-Za-z0-9:._@-]+$/.test(name)) {
      throw new Error(`invalid user or group name ${JSON.stringify(name)}: use letters, digits and ":._@-" only`);
    }
  }
  const subject = "/CN=" + user + groups.map((group) => "/O=" + group).join("");
  const fileName = "client-" + randomBytes(6).toString("hex");
  await signCertificate(dir, fileName, subject, "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature");
  const [certPem, keyPem] = await Promise.all([
    readFile(path.join(dir, fileName + ".crt"), "utf8"),
    readFile(path.join(dir, fileName + ".key"), "utf8"),
  ]);
  return { certPem, keyPem };
}

/** Creates an RSA key pair for signing service-account tokens: sa.key and sa.pub in `dir`. */
export async function createServiceAccountKeys(dir: string): Promise<void> {
  await run("openssl", ["genrsa", "-out", path.join(dir, "sa.key"), "2048"]);
  await run("openssl", ["rsa", "-in", path.join(dir, "sa.key"), "-pubout", "-out", path.join(dir, "sa.pub")]);
}

async function signCertificate(dir: string, name: string, subject: string, extensions: string): Promise<void> {
  const keyPath = path.join(dir, name + ".key");
  const requestPath = path.join(dir, name + ".csr");
  const extensionsPath = path.join(dir, name + ".ext");
  await writeFile(extensionsPath, extensions + "\n");
  await run("openssl", [
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    requestPath,
    "-subj",
    subject,
  ]);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    requestPath,
    "-CA",
    path.join(dir, "ca.crt"),
    "-CAkey",
    path.join(dir, "ca.key"),
    "-set_serial",
    "0x" + randomBytes(16).toString("hex"),
    "-days",
    "365",
    "-extfile",
    extensionsPath,
    "-out",
    path.join(dir, name + ".crt"),
  ]);
}
