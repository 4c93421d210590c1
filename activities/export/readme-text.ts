import type { ExportRequest } from '../../exports/types';

/** README.txt of an export zip: what each file is, and how to give an object back to Graph by hand. */
export function exportReadme(req: ExportRequest, snapshotFinishedAt: string): string {
  const scope =
    req.level === 'tenant'
      ? 'every object type the snapshot captured'
      : req.level === 'type'
        ? `the object type "${req.type}"`
        : `one object (${req.type} ${req.objectId})`;
  return `entra-backup export
===================

Microsoft Entra ID tenant ${req.directory}, snapshot ${req.snapshotId} taken ${snapshotFinishedAt}.
This archive holds ${scope}.

Files
-----
manifest.json
    The tenant, the snapshot (id, times, complete or not), what this export holds (level and filter), the number
    of objects per type, and the snapshot's coverage report: which types were captured and which were skipped and
    why. Types a snapshot did not capture are not in the archive.

<type>/<display name>__<id>.json
    One directory object exactly as Microsoft Graph returned it (v1.0, with the properties entra-backup selects),
    "@odata.type" included. Properties that were not set are left out. The id after "__" is the object's id
    (characters outside a-z, 0-9 and "-" are written as %XX); the display name is shortened and made safe for
    file names.

<type>/<display name>__<id>.<relationship>.json
    One relationship of that object (members, owners, appRoleAssignments, ...) in Graph's list shape:
    {"value": [ {"@odata.type": ..., "id": ..., ...}, ... ]}.

<type>/recycle-bin/...
    Objects that were in Entra's recycle bin (deleted items) when the snapshot was taken, with their last content.

SHA256SUMS
    The SHA-256 of every other file. Check an unzipped export with:  sha256sum -c SHA256SUMS

Giving an object back to Graph by hand
--------------------------------------
The restore function of entra-backup does this for you, in dependency order, and is the safer way. By hand, with
Graph Explorer, PowerShell (Invoke-MgGraphRequest) or curl and a token allowed to write the type:

1. An object still in the recycle bin: restore it first,
     POST https://graph.microsoft.com/v1.0/directory/deletedItems/{id}/restore
   https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-restore
2. An object that still exists but was changed: PATCH it with the properties you want back, e.g.
     PATCH https://graph.microsoft.com/v1.0/users/{id}   body: the properties copied from the JSON file
   Leave out read-only properties (id, createdDateTime, onPremises*, ...); Graph names any it refuses.
3. An object that is gone for good: POST the JSON to its collection (e.g. /groups, /applications) without "id"
   and the read-only properties. It gets a new id; references to it in other objects must use the new one.
   Users need a passwordProfile to be created.
4. Relationships: add each item of a <relationship>.json file back, e.g. a member with
     POST https://graph.microsoft.com/v1.0/groups/{id}/members/$ref
     {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{member id}"}
   https://learn.microsoft.com/en-us/graph/api/group-post-members
`;
}
