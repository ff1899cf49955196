/** The Cosmos DB data-plane grant kind lives in grants/; its names are kept here for earlier importers. */
export { cosmosAssignmentName, cosmosPrincipalNotReplicated, cosmosRoleDefinitionId } from './grants/cosmos-sql-role-assignments';
