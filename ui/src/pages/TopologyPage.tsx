export { TopologyPage } from "./topology/TopologyPage";
