import { StoredObject } from '../store/types';
import { EntitySet, KIND_TYPE } from './entity-sets';

/**
 * Renders a stored object the way Graph serialises it: with $select only the selected properties (plus id;
 * unset ones as null), otherwise the default set (users) or all stored properties. Secrets are never rendered.
 */
export function render(
  obj: StoredObject,
  set: EntitySet | undefined,
  select: string[] | undefined,
  opts: { withType?: boolean } = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (opts.withType) out['@odata.type'] = (obj.data['@odata.type'] as string | undefined) ?? KIND_TYPE[obj.kind];
  const props = select ?? set?.defaultSelect;
  if (props) {
    if (!props.includes('id')) out.id = obj.id;
    for (const p of props) out[p] = p === 'id' ? obj.id : (valueOf(obj, p, select !== undefined) ?? null);
  } else {
    for (const k of Object.keys(obj.data)) out[k] = valueOf(obj, k, false);
  }
  if (obj.deletedDateTime && !('deletedDateTime' in out)) out.deletedDateTime = obj.deletedDateTime;
  return out;
}

function valueOf(obj: StoredObject, prop: string, explicitlySelected: boolean): unknown {
  const v = obj.data[prop];
  if (prop === 'passwordCredentials' && Array.isArray(v)) {
    // https://learn.microsoft.com/en-us/graph/api/resources/passwordcredential?view=graph-rest-1.0: secretText is only
    // returned by addPassword.
    return v.map((c: Record<string, unknown>) => ({ ...c, secretText: null }));
  }
  if (prop === 'keyCredentials' && Array.isArray(v) && !explicitlySelected) {
    // https://learn.microsoft.com/en-us/graph/api/application-list?view=graph-beta: key is only returned when
    // keyCredentials is explicitly selected.
    return v.map((c: Record<string, unknown>) => ({ ...c, key: null }));
  }
  if (prop === 'passwordProfile') return null;
  if (prop === 'deletedDateTime') return obj.deletedDateTime ?? null;
  return v;
}
