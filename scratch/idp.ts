import { startTestIdp } from '../test/credentials/oidc-helpers.ts';
import { decodeJwt } from 'jose';
const idp = await startTestIdp({ jwtAudience: 'urn:bedrock-bridge:gateway', groups: { alice: ['eng'] } });
const t = await idp.accessToken('alice');
console.log(t.slice(0, 20), decodeJwt(t));
const opaque = await startTestIdp({});
console.log((await opaque.accessToken('bob')).slice(0, 20));
await idp.close(); await opaque.close();
