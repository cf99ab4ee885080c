// Validates Kubernetes objects against their OpenAPI schemas with
// kubernetes-models (types, required fields, formats; not unknown fields).
// Input on stdin: a JSON array of objects (the rendered kustomize base).
// Prints one line per object; exits 1 when any object is invalid or of a
// kind kubernetes-models does not know, 0 when all are valid.
import { readFileSync } from "node:fs";

const objects = JSON.parse(readFileSync(0, "utf8"));
let failures = 0;
for (const obj of objects) {
  const name = `${obj.apiVersion} ${obj.kind} ${obj.metadata?.name}`;
  // "v1" -> kubernetes-models/v1, "apps/v1" -> kubernetes-models/apps/v1
  const path = `kubernetes-models/${obj.apiVersion}`;
  let cls;
  try {
    cls = (await import(path))[obj.kind];
  } catch (e) {
    cls = undefined;
  }
  if (typeof cls !== "function") {
    console.log(`INVALID ${name}: no schema for this apiVersion/kind`);
    failures++;
    continue;
  }
  try {
    new cls(obj).validate();
    console.log(`valid   ${name}`);
  } catch (e) {
    console.log(`INVALID ${name}: ${e.message}`);
    failures++;
  }
}
console.log(`${objects.length} objects, ${failures} invalid`);
process.exit(failures === 0 && objects.length > 0 ? 0 : 1);
